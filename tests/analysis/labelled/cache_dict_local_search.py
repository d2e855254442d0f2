from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    memo = {}

    def evaluate(program):
        if program in memo:
            return memo[program]
        memo[program] = utility(program)
        return memo[program]

    best = initial_solution
    for _ in range(2):
        message = f"Improve this program:\n{best}"
        for candidate in extract_code(language_model.batch_prompt("You are an expert.", [message] * 2)):
            if evaluate(candidate) > evaluate(best):
                best = candidate
    return best
