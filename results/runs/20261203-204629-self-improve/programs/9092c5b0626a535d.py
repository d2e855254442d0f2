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
        # Implement more innovative ideas here
        if scores.is_improvement(candidate):
            best = scores.best(candidate)
            # Additional logic to explore more ideas if needed
    return best

# Example usage
fibonacci_solution = "def fibonacci(n): return 0 if n == 0 else fibonacci(n-1) + fibonacci(n-2)"
knapsack_solution = "def knapsack(weights, values, capacity): return 0 if len(weights) == 0 else max(values[0] + knapsack(weights[1:], values[1:], capacity - weights[0]), knapsack(weights[1:], values, capacity))"

utility = Utility()
language_model = LanguageModel(budget=2)

fibonacci_improved = improve_algorithm(fibonacci_solution, utility, language_model)
knapsack_improved = improve_algorithm(knapsack_solution, utility, language_model)

print(f"Improved Fibonacci solution: {fibonacci_improved}")
print(f"Improved Knapsack solution: {knapsack_improved}")