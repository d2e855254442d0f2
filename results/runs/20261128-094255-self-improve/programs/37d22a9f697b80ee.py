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
    
    # Select an algorithm that is not part of the initial solution
    improved_algorithm_str = select_new_algorithm(initial_solution, new_solutions)
    
    # Implement the improvement
    improved_algorithm_str = implement_improvement(initial_solution, improved_algorithm_str, utility)
    
    # Evaluate the improvement
    improved_utility = evaluate_improvement(initial_solution, improved_algorithm_str, utility)
    
    return improved_algorithm_str

def select_new_algorithm(initial_solution, new_solutions):
    """Selects a new algorithm that is not part of the initial solution."""
    # Implement logic to select a new algorithm
    # For example, choose the algorithm with the highest utility
    improved_algorithm_str = max(new_solutions, key=utility)
    return improved_algorithm_str

def implement_improvement(initial_solution, improved_algorithm_str, utility):
    """Implements the proposed improvement."""
    # Write the code to implement the improvement
    # For example, add new features or tweak parameters
    # Example: Add a new feature
    improved_algorithm_str = improved_algorithm_str.replace("old_feature", "new_feature")
    return improved_algorithm_str

def evaluate_improvement(initial_solution, improved_algorithm_str, utility):
    """Evaluates the performance of the improved algorithm."""
    # Evaluate the performance of the improved algorithm using the utility function
    # For example, compute the average utility of the improved algorithm
    improved_utility = utility(improved_algorithm_str)
    return improved_utility