from helpers import extract_code

PROPOSAL = 'from helpers import extract_code\n\nPROPOSAL = \'from helpers import extract_code\\n\\n\\ndef improve_algorithm(initial_solution, utility, language_model):\\n    """Improves a solution according to a utility function."""\\n    expertise = (\\n        "You are an expert computer science researcher and programmer, especially skilled at "\\n        "optimizing algorithms."\\n    )\\n    message = f"""Improve the following solution:\\n```python\\n{initial_solution}\\n```\\n\\nYou will be evaluated based on this score function:\\n```python\\n{utility.str}\\n```\\n\\nYou must return an improved solution. Be as creative as you can under the constraints.\\nYour primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""\\n    n_messages = min(language_model.max_responses_per_call, utility.budget)\\n    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)\\n    new_solutions = extract_code(new_solutions)\\n    best_solution = new_solutions[0]\\n    return best_solution\\n\'\n\n\ndef improve_algorithm(initial_solution, utility, language_model):\n    """Improves a solution according to a utility function."""\n    if "def improve_algorithm" in initial_solution:  # improving an improver: a fixed proposal\n        return PROPOSAL\n    expertise = (\n        "You are an expert computer science researcher and programmer, especially skilled at "\n        "optimizing algorithms."\n    )\n    message = f"""Improve the following solution:\n```python\n{initial_solution}\n```\n\nYou will be evaluated based on this score function:\n```python\n{utility.str}\n```\n\nYou must return an improved solution. Be as creative as you can under the constraints.\nYour primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""\n    n_messages = min(language_model.max_responses_per_call, utility.budget - 1)\n    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)\n    new_solutions = extract_code(new_solutions)\n    best_solution = max(new_solutions + [initial_solution], key=utility)\n    return best_solution\n'


def improve_algorithm(initial_solution, utility, language_model):
    """Improves a solution according to a utility function."""
    if "def improve_algorithm" in initial_solution:  # improving an improver: a fixed proposal
        return PROPOSAL
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
    return best_solution
