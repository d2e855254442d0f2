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


class DSL:
    def __init__(self, domain):
        self.domain = domain

    def generate_code(self, task):
        # Generate code tailored to the specific task
        pass

def extract_code_with_dsl(language_model, dsl, budget=2):
    # Modify the extract_code function to use the DSL
    pass

def improve_message_with_dsl(best, utility_str, dsl):
    # Modify the improve_message function to use the DSL
    pass

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
        message = improve_message_with_dsl(best, utility.str, DSL(self.domain))
        for candidate in extract_code_with_dsl(language_model, DSL(self.domain), budget=2):
            scores(candidate)
        best = scores.best(initial_solution)
    return best

# Example usage
domain = "fibonacci"  # Replace with the actual domain
domain_dsl = DSL(domain)
fibonacci_algorithm_str = improve_algorithm(initial_solution, fibonacci.utility, language_model)
print(fibonacci_algorithm_str)