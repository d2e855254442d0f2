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
    
    # Propose an idea for a new improvement
    # For example, let's assume we can improve the algorithm by using a more efficient data structure
    new_improvement = f"""
To improve the algorithm, we can replace the current data structure with a more efficient one, such as a dictionary instead of a list.
This will reduce the time complexity of operations like append and search from O(n) to O(1).
Here's the updated code:
```python
{initial_solution.replace('list', 'dict')}
```

This new improvement should provide a significant improvement in terms of speed for the algorithm.
"""
    
    # Implement the new improvement
    new_solution_with_improvement = new_solution.replace('list', 'dict')
    
    # Evaluate the new solution with the improved algorithm
    utility_improved = utility(new_solution_with_improvement)
    
    return new_solution_with_improvement, utility_improved