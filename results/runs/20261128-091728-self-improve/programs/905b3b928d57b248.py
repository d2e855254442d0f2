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
    utility_cache = {}
    language_model_cache = {}
    
    for task in [fibonacci, string_grid_distance, parity]:
        for _ in range(n_tests):
            if task.algorithm_str not in utility_cache:
                utility_cache[task.algorithm_str] = task.utility
            if task.algorithm_str not in language_model_cache:
                language_model_cache[task.algorithm_str] = LanguageModel(budget=2)
                
            improved_algorithm_str = improve_algorithm(task.algorithm_str, utility_cache[task.algorithm_str], language_model_cache[task.algorithm_str])
            expected_utility += utility_cache[task.algorithm_str](improved_algorithm_str) / (n_tests * 3)  # failure: 0
    return expected_utility