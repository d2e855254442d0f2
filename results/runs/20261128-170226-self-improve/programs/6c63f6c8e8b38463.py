from helpers import extract_code
import random

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
    new_solutions = []
    for _ in range(n_messages):
        new_solution = language_model.generate_response(expertise, temperature=0.7)
        new_solutions.append(new_solution)
    
    # Filter out any solutions that do not meet the utility criteria
    new_solutions = [sol for sol in new_solutions if utility.eval(sol) > 0]
    
    if not new_solutions:
        raise ValueError("No suitable solutions found. Please try again.")
    
    # Select the best solution based on the utility
    best_solution = random.choice(new_solutions)
    return best_solution