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
    
    # Initial proposal for an improvement
    initial_proposal = "This is a placeholder for the initial idea for an improvement."
    improved_algorithm_str = initial_proposal  # Assuming the initial proposal is a string
    
    # Implement the initial idea
    improved_algorithm_str = "Here is the implementation of the initial idea."
    
    # Evaluate the improved solution
    expected_utility = utility(improved_algorithm_str) / (n_tests * 1)  # failure: 0
    return improved_algorithm_str

# Test the function
initial_solution = """
def inefficient_algorithm():
    for i in range(100000):
        x = i**2
        if x > 1000000:
            break
        print(x)
"""

utility = lambda x: 0.9  # Example utility function that always returns 0.9

language_model = LanguageModel(budget=2)

improved_solution = improve_algorithm(initial_solution, utility, language_model)
print(improved_solution)