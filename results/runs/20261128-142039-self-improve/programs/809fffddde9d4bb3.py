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
    
    # Initial improvement: add a comment explaining the purpose of the code
    if '"""' in initial_solution:
        initial_solution = initial_solution.replace('"""', '"""# This is an initial comment explaining the purpose of the code"""')
    
    # Further improvements: add a docstring and refactor the code
    for solution in new_solutions:
        solution = solution.replace('"""', '"""# This is a docstring for the code"""')
        improved_solution = solution.replace('if', 'if # This is a comment explaining the logic')
        improved_solution = improved_solution.replace('else', 'else # This is a comment explaining the logic')
        improved_solution = improved_solution.replace('for', 'for # This is a comment explaining the logic')
        improved_solution = improved_solution.replace('while', 'while # This is a comment explaining the logic')
    
    # Select the best solution
    best_solution = max(improved_solutions, key=utility)
    return best_solution