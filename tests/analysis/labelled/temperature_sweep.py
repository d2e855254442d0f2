from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    message = f"Improve the following solution:\n```python\n{initial_solution}\n```\n{utility.str}"
    candidates = []
    for temperature in (0.2, 0.6, 1.0):
        candidates += extract_code(language_model.batch_prompt("You are an expert.", [message] * 2, temperature))
    return max(candidates, key=utility)
