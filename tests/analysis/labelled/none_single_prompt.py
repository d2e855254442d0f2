from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    # Beam search and simulated annealing would be nice here, but one call is enough.
    beam = language_model.prompt(
        "You are an expert programmer.",
        f"Improve this program:\n```python\n{initial_solution}\n```\nScoring:\n{utility.str}",
        n_responses=language_model.max_responses_per_call,
        temperature=0.8,
    )
    candidates = [code for code in extract_code(beam) if code]
    if not candidates:
        return initial_solution
    return max(candidates, key=utility)
