from helpers import Scores, extract_code, improve_message

# The strategy's knobs. Each is clamped to what the budgets allow, so an overshoot (CALLS = 10
# on a 2-call budget) uses the whole budget instead of failing.
CALLS = 5  # language-model calls; each rewrites the best program so far
SAMPLES_PER_CALL = 20  # rewrites per call, at most: a call's responses and the utility calls left bound it
TEMPERATURE = 0.9
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
        # Apply a slight temperature drop for each improvement to avoid overfitting
        temperature *= 0.9
        best = scores.best(initial_solution)
    return best

# Test suite for the improved algorithm
def fibonacci(seed_str):
    def algorithm_str():
        return f"def fibonacci(n):\n    if n <= 1:\n        return n\n    else:\n        return fibonacci(n-1) + fibonacci(n-2)"
    return algorithm_str

def knapsack(seed_str):
    def algorithm_str():
        return f"def knapsack(weights, values, capacity):\n    def knapsack_recursive(w, i, memo):\n        if memo[i][w] != -1:\n            return memo[i][w]\n        if w == 0:\n            return 0\n        if i == 0:\n            return 0\n        if weights[i-1] > w:\n            return knapsack_recursive(w, i-1, memo)\n        return max(knapsack_recursive(w, i-1, memo), values[i-1] + knapsack_recursive(w-weights[i-1], i-1, memo))\n    memo = [[-1] * (capacity + 1) for _ in range(len(weights) + 1)]\n    return knapsack_recursive(capacity, len(weights), memo)"
    return algorithm_str

# Meta-utility to evaluate the improvement
def meta_utility(improve_str: str) -> float:
    """Scores an improver: the mean downstream utility of the programs it produces.

    improve_str must define improve_algorithm(initial_solution, utility, language_model) and
    return the improved program as a string. The evaluation harness provides the tasks
    (fibonacci, knapsack; each has a seed program `algorithm_str` and its `utility`) and
    `LanguageModel`; improve_str receives them as arguments and cannot import them.
    This meta-utility can be called 13 times.
    """
    n_tests = 2
    expected_utility = 0.0
    for task in [fibonacci, knapsack]:
        for _ in range(n_tests):
            # A fresh utility (at most 6 calls) and a fresh language model (at
            # most 2 calls of at most 3 responses each) for every run.
            # The run happens in a sandbox and is stopped after 1800 s.
            utility = task.utility
            language_model = LanguageModel(budget=2)
            improved_algorithm_str = improve_algorithm(task.algorithm_str, utility, language_model)
            expected_utility += utility(improved_algorithm_str) / (