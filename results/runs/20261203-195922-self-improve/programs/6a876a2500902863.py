from helpers import Scores, extract_code, improve_message
from genetic_algorithm import GeneticAlgorithm, GeneticAlgorithmParams

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
    """Evolve the best program over time using a genetic algorithm."""
    # Set up the genetic algorithm parameters
    params = GeneticAlgorithmParams(
        initial_solution=initial_solution,
        mutation_rate=0.1,
        crossover_rate=0.7,
        population_size=100,
        generations=50,
        termination_threshold=0.9,
        max_generations=1000
    )

    # Create a genetic algorithm instance
    ga = GeneticAlgorithm(params)

    # Run the genetic algorithm
    best_program = ga.run()

    return best_program