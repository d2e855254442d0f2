import random

from helpers import extract_code

TIPS = {
    "speed": "Focus on the running time of the program, it is measured.",
    "correctness": "Make sure the output is always valid before anything else.",
    "brevity": "Shorter programs score a little more; remove dead code.",
}


def improve_algorithm(initial_solution, utility, language_model):
    programs = []
    for _ in range(2):
        tip = random.choice(list(TIPS.values()))
        response = language_model.prompt("You are an expert.", tip + "\n\n" + initial_solution, n_responses=2)
        programs.extend(extract_code(response))
    return max(programs, key=utility)
