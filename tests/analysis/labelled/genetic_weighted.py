import random

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    population = [initial_solution]
    fitness = [utility(initial_solution) + 1e-6]
    for _ in range(3):
        parent = random.choices(population, weights=fitness, k=1)[0]
        mutation = f"Mutate this program with one bold change:\n```python\n{parent}\n```"
        for child in extract_code(language_model.batch_prompt("You mutate programs.", [mutation] * 2)):
            population.append(child)
            fitness.append(utility(child) + 1e-6)
    return population[fitness.index(max(fitness))]
