import random

class Individual:
    def __init__(self, program):
        self.program = program
        self.fitness = 0
        self.creativity = 0

    def calculate_fitness(self, utility):
        self.fitness = utility(self.program)

    def calculate_creativity(self, complexity, novelty):
        self.creativity = complexity + novelty

    def mutate(self):
        # Mutate the program
        pass

def genetic_algorithm(initial_solution, utility, language_model, population_size, generations):
    population = [Individual(initial_solution) for _ in range(population_size)]
    for _ in range(generations):
        for individual in population:
            individual.calculate_fitness(utility)
            individual.calculate_creativity(language_model.complexity, language_model.novelty)
        # Select the parents
        parents = random.sample(population, 2)
        # Create offspring
        offspring = []
        for _ in range(len(parents)):
            offspring.append(Individual(parents[0].program + random.choice(parents[1].program)))
        # Mutate the offspring
        for individual in offspring:
            individual.mutate()
        # Replace the population
        population = offspring
    return max(population, key=lambda x: x.fitness)