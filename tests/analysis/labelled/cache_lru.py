import functools

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    @functools.lru_cache(maxsize=None)
    def score(program):
        return utility(program)

    message = f"Improve the following solution:\n{initial_solution}"
    candidates = extract_code(language_model.batch_prompt("You are an expert.", [message] * 4, 0.7))
    return max([initial_solution] + candidates, key=score)
