import math
import random

from helpers import Scores, calls_and_samples, extract_code, improve_message


def improve_algorithm(initial_solution, utility, language_model):
    """Simulated annealing over programs: rewrite the current program; move to a rewrite if it
    scores higher, or lower with probability exp(delta / T) as T cools. Returns the best seen."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    rng = random.Random(0)  # seeded: a replayed run makes the same moves
    scores = Scores(utility)
    current, current_score = initial_solution, scores(initial_solution) or 0.0
    steps, per_step = calls_and_samples(language_model, scores, wanted_calls=4)
    for step in range(steps):
        if scores.spent:
            break
        temperature = 0.1 * (1 - step / steps) + 1e-6
        message = improve_message(current, utility.str, "Return an improved solution in one code block.")
        for candidate in extract_code(language_model.batch_prompt(expertise, [message] * per_step, temperature=0.8)):
            score = scores(candidate)
            if score is None:
                continue
            if score >= current_score or rng.random() < math.exp((score - current_score) / temperature):
                current, current_score = candidate, score
    return scores.best(initial_solution)
