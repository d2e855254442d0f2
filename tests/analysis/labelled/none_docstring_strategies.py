from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    """A genetic algorithm with UCB-guided mutation, epsilon-greedy exploration, a temperature
    schedule, retries on failure and a cache of utility calls (all planned, none written yet)."""
    temperature = 0.7  # TODO: anneal this
    message = "Improve the following solution:\n" + initial_solution + "\nScore function:\n" + utility.str
    responses = language_model.batch_prompt("You are a careful engineer.", [message] * 3, temperature)
    programs = extract_code(responses)
    return max(programs, key=utility)
