from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    """Improves a solution according to a utility function."""
    expertise = (
        "You are an expert computer science researcher and programmer, especially skilled at "
        "optimizing algorithms."
    )
    message = f"""Improve the following solution:
```python
{initial_solution}
```

You will be evaluated based on this score function:
```python
{utility.str}
```

You must return an improved solution. Be as creative as you can under the constraints.
Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""
    n_messages = min(language_model.max_responses_per_call, utility.budget)
    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)
    new_solutions = extract_code(new_solutions)
    best_solution = max(new_solutions, key=utility)
    return best_solution

def meta_utility(improve_str: str) -> float:
    """Scores an improver: the mean downstream utility of the programs it produces.

    improve_str must define improve_algorithm(initial_solution, utility, language_model) and
    return the improved program as a string. The evaluation harness provides the tasks
    (fibonacci, string_grid_distance, parity; each has a seed program `algorithm_str` and its `utility`) and
    `LanguageModel`; improve_str receives them as arguments and cannot import them.
    This meta-utility can be called 6 times.
    """
    n_tests = 2
    expected_utility = 0.0
    for task in [fibonacci, string_grid_distance, parity]:
        for _ in range(n_tests):
            # A fresh utility (at most 6 calls) and a fresh language model (at
            # most 2 calls of at most 3 responses each) for every run.
            # The run happens in a sandbox and is stopped after 1800 s.
            utility = task.utility
            language_model = LanguageModel(budget=2)
            improved_algorithm_str = improve_algorithm(task.algorithm_str, utility, language_model)
            expected_utility += utility(improved_algorithm_str) / (n_tests * 3)  # failure: 0
    return expected_utility

# Example usage
initial_solution = """
def fibonacci(n):
    if n <= 1:
        return n
    else:
        return fibonacci(n-1) + fibonacci(n-2)
"""
utility = MetaUtility()
improved_solution = improve_algorithm(initial_solution, utility, LanguageModel())
print(f"Improved Solution: {improved_solution}")