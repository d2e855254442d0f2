from helpers import extract_code

NOTES = [
    "retry the call when the language model fails",
    "keep the incumbent if nothing beats it",
]


def improve_algorithm(initial_solution, utility, language_model):
    log = []
    for note in NOTES:
        log.append(note.upper())
    message = f"Make this faster:\n{initial_solution}\n\n{utility.str}"
    (response,) = language_model.prompt("You optimize code.", message, n_responses=1)
    return extract_code(response) or initial_solution
