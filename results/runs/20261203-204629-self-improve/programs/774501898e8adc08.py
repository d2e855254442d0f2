from helpers import Scores, extract_code, improve_message

# The strategy's knobs. Each is clamped to what the budgets allow, so an overshoot (CALLS = 10
# on a 2-call budget) uses the whole budget instead of failing.
CALLS = 1  # language-model calls; each rewrites the best program so far
SAMPLES_PER_CALL = 12  # rewrites per call, at most: a call's responses and the utility calls left bound it
TEMPERATURE = 0.7
KEEP_INCUMBENT = True  # the initial solution competes, so the result is never worse than it
EXPERTISE = ("You are an expert computer science researcher and programmer, especially skilled at "
             "optimizing algorithms.")
INSTRUCTION = ("You must return an improved solution. Be as creative as you can under the constraints.\n"
               "Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it.")


def improve_algorithm(initial_solution, utility, language_model):
    """keep_best with its knobs as named constants at the top (calls, samples, temperature, the
    prompt's sentences, whether the incumbent competes), each clamped to the budgets: a seed
    whose small edits change behaviour."""
    scores = Scores(utility)
    if KEEP_INCUMBENT:
        scores(initial_solution)
    calls = max(1, min(int(CALLS), getattr(language_model, "budget", 1)))
    temperatures = [0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
    samples_per_calls = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    initial_solutions = [initial_solution, improve_algorithm(initial_solution, utility, language_model)]
    
    best = initial_solution
    for _ in range(calls):
        for temp in temperatures:
            for n in samples_per_calls:
                message = improve_message(best, utility.str, INSTRUCTION, temperature=temp)
                for candidate in extract_code(language_model.batch_prompt(EXPERTISE, [message] * n, temperature=temp)):
                    scores(candidate)
                best = scores.best(initial_solution, initial_solutions[1])
    return best