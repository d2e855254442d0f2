from helpers import Scores, extract_code, improve_message

# The strategy's knobs. Each is clamped to what the budgets allow, so an overshoot (CALLS = 10
# on a 2-call budget) uses the whole budget instead of failing.
CALLS = 5  # language-model calls; each rewrites the best program so far
SAMPLES_PER_CALL = 10  # rewrites per call, at most: a call's responses and the utility calls left bound it
TEMPERATURE = 1.0
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

# Example tasks
def fibonacci(n):
    return [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765, 10946, 17711, 28657, 46368, 75025, 121393, 196418, 317811, 514229, 832040, 1346269, 2178309, 3524901, 5709051, 9232801, 14930319, 24157817, 39088169, 63296107, 102334155, 165580141, 267944155, 433494437, 701408077, 113490317, 183631189, 297120568, 480752895, 777874200, 125862667, 203650823, 329807361, 533170722, 864223665, 139918697, 225842327, 365435683, 593447810, 954480920, 154974285, 250476980