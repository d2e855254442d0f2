import random

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    temperatures = [0.2, 0.7, 1.1]
    wins = [1] * 3
    losses = [1] * 3
    programs = []
    for _ in range(language_model.budget):
        draws = [random.betavariate(wins[i], losses[i]) for i in range(3)]
        arm = draws.index(max(draws))
        response = language_model.batch_prompt(
            "You are an expert.", [f"Improve:\n{initial_solution}"], temperature=temperatures[arm])
        program = extract_code(response)[0]
        if utility(program) > 0.5:
            wins[arm] += 1
        else:
            losses[arm] += 1
        programs.append(program)
    return max(programs, key=utility)
