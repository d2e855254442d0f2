import random

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    options = [0.3, 0.9]
    mean_score = {t: 0.0 for t in options}
    seen = []
    for round_index in range(2):
        chosen = random.choice(options) if random.random() < 0.3 else max(options, key=mean_score.get)
        batch = language_model.batch_prompt("You are an expert.", [initial_solution] * 2, temperature=chosen)
        for program in extract_code(batch):
            mean_score[chosen] = utility(program)
            seen.append(program)
    return max(seen, key=utility)
