import random
import copy

class GeneticAlgorithm:
    def __init__(self, pop_size, mutation_rate, crossover_rate, max_generations):
        self.pop_size = pop_size
        self.mutation_rate = mutation_rate
        self.crossover_rate = crossover_rate
        self.max_generations = max_generations

    def generate_initial_population(self, utility, initial_solution):
        population = []
        for _ in range(self.pop_size):
            solution = initial_solution
            for _ in range(random.randint(1, utility.max_calls)):
                new_solution = copy.deepcopy(solution)
                new_solution = self.mutate(new_solution)
                new_solution = self.crossover(new_solution, utility)
                if utility(new_solution) > utility(solution):
                    solution = new_solution
            population.append(solution)
        return population

    def mutate(self, solution):
        # Perform a random swap or insertion operation
        if random.random() < self.mutation_rate:
            index = random.randint(0, len(solution) - 1)
            if random.random() < 0.5:
                # Swap two elements
                new_solution = solution[:index] + solution[index+1:] + solution[index:index+1]
            else:
                # Insert an element
                new_solution = solution[:index] + solution[index+1:]
        return new_solution

    def crossover(self, solution1, solution2):
        # Perform a single-point crossover
        if random.random() < self.crossover_rate:
            index = random.randint(0, len(solution1) - 1)
            new_solution = solution1[:index] + solution2[index:]
            return new_solution
        return solution1

    def evolve(self, utility, initial_solution):
        population = self.generate_initial_population(utility, initial_solution)
        for _ in range(self.max_generations):
            new_population = []
            for _ in range(self.pop_size):
                new_solution = self.mutate(copy.deepcopy(population[random.randint(0, len(population) - 1)]))
                new_solution = self.crossover(copy.deepcopy(population[random.randint(0, len(population) - 1)]), utility)
                new_population.append(new_solution)
            population = new_population
        return max(population, key=utility)

def improve_algorithm(initial_solution, utility, language_model):
    """keep_best with its knobs as named constants at the top (calls, samples, temperature, the
    prompt's sentences, whether the incumbent competes), each clamped to the budgets: a seed
    whose small edits change behaviour."""
    scores = Scores(utility)
    if KEEP_INCUMBENT:
        scores(initial_solution)
    calls = max(1, min(int(CALLS), getattr(language_model, "budget", 1)))
    temperature = min(max(float(TEMPERATURE), 0.0), 2.0)
    best = initial_solution
    algorithm_str = improve_algorithm(initial_solution, utility, language_model)
    for _ in range(calls):
        n = max(0, min(int(SAMPLES_PER_CALL), language_model.max_responses_per_call, scores.left))
        if n == 0:
            break
        message = improve_message(best, utility.str, INSTRUCTION)
        for candidate in extract_code(language_model.batch_prompt(EXPERTISE, [message] * n, temperature=temperature)):
            scores(candidate)
        best = scores.best(initial_solution)
    algorithm_str = genetic_algorithm(scores, initial_solution).algorithm_str
    return algorithm_str