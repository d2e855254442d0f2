from helpers import Scores, calls_and_samples, extract_code, improve_message


def improve_algorithm(initial_solution, utility, language_model):
    """The paper's request without the essay: code only, so every decoded token is program
    (decoding is the cost of a local model)."""
    expertise = "You are an expert programmer. You answer with code only: no explanation, no comments."
    scores = Scores(utility)
    scores(initial_solution)
    calls, per_call = calls_and_samples(language_model, scores, wanted_calls=2)
    message = improve_message(initial_solution, utility.str,
                              "Return only the improved program in one ```python code block. Do not explain it.")
    for _ in range(calls):
        if scores.spent:
            break
        for candidate in extract_code(language_model.batch_prompt(expertise, [message] * per_call, temperature=0.7)):
            scores(candidate)
    return scores.best(initial_solution)
