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
    
    # Improve the algorithm by adding a new optimization
    improved_solution = add_optimization(initial_solution, utility)
    
    return improved_solution

def add_optimization(initial_solution, utility):
    """Adds a new optimization to the algorithm."""
    # Add a new optimization to the algorithm
    # For example, you can add a new algorithm that uses a different data structure or algorithmic approach
    # This will help the algorithm to be more efficient or to handle larger inputs better
    # You can also add a new parameter to the algorithm that allows the user to control its behavior
    # For example, the algorithm can now take a parameter that controls the size of the data it processes
    # This will help the algorithm to be more flexible and adaptable to different inputs
    # The new optimization will be added to the algorithm and the improved solution will be returned
    
    # Example of an optimization that uses a different data structure
    # new_solution = optimized_solution(initial_solution)
    # return new_solution

    # Example of an optimization that adds a new parameter
    # new_solution = parameter_optimized_solution(initial_solution)
    # return new_solution