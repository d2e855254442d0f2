from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    hints = [
        "Hint: think about the time complexity first.",
        "Hint: the tests are small; simplicity may pay off.",
        "Hint: handle the edge cases explicitly.",
    ]
    base = f"Improve the following solution:\n{initial_solution}\nScore function:\n{utility.str}"
    messages = [f"{hint}\n{base}" for hint in hints]
    return max(extract_code(language_model.batch_prompt("You are an expert.", messages, 0.7)), key=utility)
