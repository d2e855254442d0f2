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
    
    # Function to evaluate the complexity of a function
    def evaluate_complexity(code):
        try:
            # Evaluate the complexity of the code using the `ast` module
            import ast
            tree = ast.parse(code)
            complexity = len(tree.body) + sum(len(node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef))
            return complexity
        except Exception as e:
            print(f"Error evaluating complexity: {e}")
            return None
    
    # Function to optimize the code based on complexity
    def optimize_code(code):
        # Example optimization: remove unnecessary comments and whitespace
        return code.replace("  ", "").replace("\n", "").replace("import ", "")
    
    # Evaluate the complexity of each new solution
    improved_solutions = [optimize_code(s) for s in new_solutions]
    
    # Select the solution with the highest complexity
    best_solution = max(improved_solutions, key=evaluate_complexity)
    
    return best_solution