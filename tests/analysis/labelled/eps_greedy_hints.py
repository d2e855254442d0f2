import random

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    hints = [
        "Use a different data structure for the hot loop.",
        "Precompute whatever does not depend on the input.",
        "Replace recursion by iteration with an explicit stack.",
    ]
    value = {hint: 0.0 for hint in hints}
    programs = []
    for _ in range(3):
        if random.random() < 0.2:
            hint = random.choice(hints)
        else:
            hint = max(hints, key=lambda h: value[h])
        response = language_model.prompt("You improve code.", f"{hint}\n{initial_solution}")[0]
        program = extract_code(response)
        value[hint] = utility(program)
        programs.append(program)
    return max(programs, key=utility)
