from helpers import Scores, calls_and_samples, extract_code, improve_message


def improve_algorithm(initial_solution, utility, language_model):
    """A temperature schedule: explore with hot samples first, then refine the best program
    found with cooler ones."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    scores(initial_solution)
    calls, per_call = calls_and_samples(language_model, scores, wanted_calls=3)
    for i in range(calls):
        if scores.spent:
            break
        temperature = 1.0 - 0.6 * i / max(1, calls - 1)  # 1.0 down to 0.4
        best = scores.best(initial_solution)
        message = improve_message(best, utility.str, "Return an improved solution in one code block.")
        for candidate in extract_code(language_model.batch_prompt(expertise, [message] * per_call, temperature=temperature)):
            scores(candidate)
    return scores.best(initial_solution)
