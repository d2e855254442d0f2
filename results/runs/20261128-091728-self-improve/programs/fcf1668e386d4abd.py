from helpers import extract_code
from typing import List

def improve_algorithm(initial_solution: str, utility: callable, language_model: callable) -> str:
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
{utility.__name__}
```

You must return an improved solution. Be as creative as you can under the constraints.
Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""
    n_messages = min(language_model.max_responses_per_call, utility.budget)
    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)
    new_solutions = extract_code(new_solutions)
    best_solution = max(new_solutions, key=utility)
    return best_solution

# Function to define the utility
def fibonacci_utility(improved_algorithm_str: str) -> float:
    """Scores the improved Fibonacci program."""
    # Implement the utility function for Fibonacci
    pass

def string_grid_distance_utility(improved_algorithm_str: str) -> float:
    """Scores the improved string grid distance program."""
    # Implement the utility function for string grid distance
    pass

def parity_utility(improved_algorithm_str: str) -> float:
    """Scores the improved parity program."""
    # Implement the utility function for parity
    pass

# Example usage
if __name__ == "__main__":
    initial_solution = """
    def fibonacci(n):
        if n == 0:
            return 0
        elif n == 1:
            return 1
        else:
            return fibonacci(n-1) + fibonacci(n-2)
    """
    utility_functions = [fibonacci_utility, string_grid_distance_utility, parity_utility]
    language_model = LanguageModel(budget=2)
    
    for utility in utility_functions:
        improved_solution = improve_algorithm(initial_solution, utility, language_model)
        print(f"Improved solution for {utility.__name__}:")
        print(improved_solution)
        print(f"Score: {utility(improved_solution)}\n")