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
    temperature = min(max(float(TEMPERATURE), 0.0), 2.0)
    best = initial_solution
    for _ in range(calls):
        n = max(0, min(int(SAMPLES_PER_CALL), language_model.max_responses_per_call, scores.left))
        if n == 0:
            break
        message = improve_message(best, utility.str, INSTRUCTION)
        for candidate in extract_code(language_model.batch_prompt(EXPERTISE, [message] * n, temperature=temperature)):
            scores(candidate)
        best = scores.best(initial_solution)
    return best
