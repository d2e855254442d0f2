from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    code = ""
    tries = 0
    while not code and tries < language_model.budget:
        tries += 1
        reply = language_model.prompt("Answer with one fenced Python block.", "Improve:\n" + initial_solution)[0]
        code = extract_code(reply)
    return code or initial_solution
