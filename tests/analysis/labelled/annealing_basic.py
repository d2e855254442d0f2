import math
import random

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    current, current_score = initial_solution, utility(initial_solution)
    best, best_score = current, current_score
    temperature = 0.1
    for step in range(utility.budget - 1):
        message = f"Make one small change that could improve this program:\n{current}"
        (response,) = language_model.prompt("You are an optimizer.", message, n_responses=1)
        candidate = extract_code(response)
        candidate_score = utility(candidate)
        delta = candidate_score - current_score
        if delta > 0 or random.random() < math.exp(delta / temperature):
            current, current_score = candidate, candidate_score
        if current_score > best_score:
            best, best_score = current, current_score
        temperature *= 0.8
    return best
