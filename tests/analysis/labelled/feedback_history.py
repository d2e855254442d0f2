from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    history = [(initial_solution, utility(initial_solution))]
    for _ in range(2):
        shown = "\n\n".join(f"Program (score {score:.3f}):\n{program}" for program, score in history)
        message = f"Here are earlier programs and their scores.\n{shown}\nWrite a better one."
        for program in extract_code(language_model.batch_prompt("You are an expert.", [message] * 2)):
            history.append((program, utility(program)))
    return max(history, key=lambda pair: pair[1])[0]
