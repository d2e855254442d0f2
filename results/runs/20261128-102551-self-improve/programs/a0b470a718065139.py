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
    (lpn; each has a seed program `algorithm_str` and its `utility`) and
    `LanguageModel`; improve_str receives them as arguments and cannot import them.
    This meta-utility can be called 6 times.
    """
    n_tests = 2
    expected_utility = 0.0
    for task in [lpn]:
        for _ in range(n_tests):
            # Initialize utility and language model with proper initialization
            try:
                utility = task.utility
                language_model = LanguageModel(budget=2)
            except Exception as e:
                print(f"Error initializing utility or language model: {e}")
                continue

            try:
                # Call improve_algorithm with the task's algorithm_str
                improved_algorithm_str = improve_algorithm(task.algorithm_str, utility, language_model)
            except Exception as e:
                print(f"Error improving algorithm: {e}")
                continue

            # Extract code from the improved solution
            try:
                extracted_code = extract_code(improved_algorithm_str)
            except Exception as e:
                print(f"Error extracting code: {e}")
                continue

            # Evaluate the improved solution using the utility function
            try:
                expected_utility += utility(extracted_code) / (n_tests * 1)
            except Exception as e:
                print(f"Error evaluating improved solution: {e}")
                continue

    return expected_utility