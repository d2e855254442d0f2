from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    chunks = initial_solution.split("\n\n")
    messages = [f"Improve this part of a larger program, keep its names:\n{chunk}" for chunk in chunks]
    rewritten = [extract_code(language_model.batch_prompt("You are an expert.", [m])[0]) or c
                 for m, c in zip(messages, chunks)]
    return "\n\n".join(rewritten)
