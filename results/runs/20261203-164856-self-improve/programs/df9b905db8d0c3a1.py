from helpers import Scores, extract_code, improve_message

# The strategy's knobs. Each is clamped to what the budgets allow, so an overshoot (CALLS = 10
# on a 2-call budget) uses the whole budget instead of failing.
CALLS = 1  # language-model calls; each rewrites the best program so far
SAMPLES_PER_CALL = 12  # rewrites per call, at most: a call's responses and the utility calls left bound it
TEMPERATURE = 0.7
KEEP_INCUMBENT = True  # the initial solution competes, so the result is never worse than it
EXPERTISE = ("You are an expert computer science researcher and programmer, especially skilled at "
             "optimizing algorithms.")
INSTRUCTION = ("You must return an improved solution. Be as creative as you can under the constraints.\n"
               "Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it.")


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
    for _ in range(calls):
        n = max(0, min(int(SAMPLES_PER_CALL), language_model.max_responses_per_call, scores.left))
        if n == 0:
            break
        message = improve_message(best, utility.str, INSTRUCTION)
        for candidate in extract_code(language_model.batch_prompt(EXPERTISE, [message] * n, temperature=temperature)):
            scores(candidate)
        if scores.best(candidate) > scores.best(best):
            best = candidate
    return best

# Improved idea: Use a genetic algorithm to evolve the program
def genetic_algorithm(initial_solution, utility, language_model):
    """Evolve the program using a genetic algorithm."""
    scores = Scores(utility)
    if KEEP_INCUMBENT:
        scores(initial_solution)
    calls = max(1, min(int(CALLS), getattr(language_model, "budget", 1)))
    temperature = min(max(float(TEMPERATURE), 0.0), 2.0)
    population_size = 100
    generations = 100
    
    # Initialize population with random programs
    population = [language_model.random_program() for _ in range(population_size)]
    
    for _ in range(generations):
        # Evaluate the fitness of each program
        scores.reset()
        for program in population:
            scores(program)
        
        # Select the best programs for reproduction
        parents = [scores.best(program) for program in population]
        parents = parents[:20]
        
        # Generate new programs by crossing over and mutating the parents
        new_population = []
        for _ in range(population_size - len(parents)):
            parent1 = parents[int(random.random() * len(parents))]
            parent2 = parents[int(random.random() * len(parents))]
            child = crossover(parent1, parent2)
            child = mutate(child)
            new_population.append(child)
        
        # Replace the old population with the new population
        population = new_population
    
    # Return the best program in the population
    return scores.best(population[0])

# Crossover function
def crossover(parent1, parent2):
    """Perform crossover on two programs."""
    point = random.randint(1, len(parent1) - 1)
    return parent1[:point] + parent2[point:]

# Mutation function
def mutate(program):
    """Perform mutation on a program."""
    # Randomly replace a character with a different character
    i = random.randint(0, len(program) - 1)
    program = program[:i] + random.choice(string.ascii_letters) + program[i + 1:]
    return program