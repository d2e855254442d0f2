import random

from helpers import extract_code

EXPERTISE = "You are an expert in evolutionary program synthesis."


def improve_algorithm(initial_solution, utility, language_model):
    population = [initial_solution] + extract_code(language_model.batch_prompt(
        EXPERTISE, [f"Write a variant of:\n{initial_solution}"] * 3, temperature=1.0))
    for generation in range(2):
        parent_a, parent_b = random.sample(population, 2)
        message = (f"Combine the best ideas of these two programs into one.\nFirst:\n{parent_a}\n"
                   f"Second:\n{parent_b}\nThe result is scored by:\n{utility.str}")
        children = extract_code(language_model.batch_prompt(EXPERTISE, [message] * 2, temperature=0.8))
        population = sorted(population + children, key=utility, reverse=True)[:4]
    return population[0]
