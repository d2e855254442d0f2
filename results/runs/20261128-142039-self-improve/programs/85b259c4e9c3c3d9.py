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
    
    # Create a copy of the initial solution to avoid modifying the original
    improved_solution = initial_solution[:]
    
    # Identify potential areas for improvement
    # For example, if the initial solution uses a brute-force algorithm, consider replacing it with a more efficient one
    
    # Implement the proposed improvement in the initial solution
    # For example, if the initial solution uses a greedy algorithm, consider using a dynamic programming approach
    
    # Apply the improvement
    for i in range(len(initial_solution)):
        # Apply the improvement to the initial solution
        improved_solution[i] = improved_solution[i].replace('old_code', 'new_code')
    
    # Evaluate the improvement
    improved_utility = utility(improved_solution)
    
    return improved_solution, improved_utility