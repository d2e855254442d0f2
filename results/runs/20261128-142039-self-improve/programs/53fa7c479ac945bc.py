from helpers import extract_code
from language_model import LanguageModel

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
    
    # Step 1: Identify the strengths and weaknesses of the current solution
    initial_score = utility(initial_solution)
    
    # Step 2: Identify areas for improvement
    # Example: If the current solution is slow, we might consider using a different algorithm.
    
    # Step 3: Propose new ideas
    # Example: Implement a more efficient algorithm that uses dynamic programming.
    
    # Step 4: Implement the new ideas
    improved_solution = "Your improved solution goes here."  # Placeholder, replace with the actual implementation
    
    # Step 5: Evaluate the improved solution
    improved_score = utility(improved_solution)
    
    # Return the improved solution if it scores higher
    if improved_score > initial_score:
        return improved_solution
    else:
        return initial_solution

# Example usage of the improved algorithm
initial_solution = """
def fibonacci(n):
    if n <= 1:
        return n
    else:
        return fibonacci(n-1) + fibonacci(n-2)
"""
utility = "Your utility function goes here."  # Placeholder, replace with the actual utility function
language_model = LanguageModel(budget=2)
improved_solution = improve_algorithm(initial_solution, utility, language_model)
print(improved_solution)