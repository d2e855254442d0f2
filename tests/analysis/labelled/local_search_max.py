from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    current = initial_solution
    for _ in range(2):
        new = extract_code(language_model.batch_prompt("Expert.", [f"Improve:\n{current}"] * 2, temperature=0.7))
        current = max([current] + new, key=utility)
    return current
