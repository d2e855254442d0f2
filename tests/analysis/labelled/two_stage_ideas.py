from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    expertise = "You are an expert computer science researcher."
    ideas = language_model.prompt(expertise, f"List three ideas to improve:\n{initial_solution}")[0]
    message = f"Implement the most promising idea.\nIdeas:\n{ideas}\nProgram:\n{initial_solution}"
    programs = extract_code(language_model.batch_prompt(expertise, [message] * 3, temperature=0.7))
    return max(programs, key=utility)
