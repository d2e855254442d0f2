from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    message = f"Improve the following solution:\n{initial_solution}"
    programs = []
    for attempt in range(3):
        try:
            responses = language_model.batch_prompt("You are an expert.", [message] * 2, temperature=0.7)
            programs = extract_code(responses)
            break
        except Exception as error:
            message += f"\nThe previous request failed with: {error}. Answer more briefly."
    return max(programs, key=utility) if programs else initial_solution
