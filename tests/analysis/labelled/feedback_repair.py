from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    expertise = "You are an expert programmer."
    first = extract_code(language_model.batch_prompt(expertise, [f"Improve:\n{initial_solution}"] * 2))
    scored = sorted(((utility(p), p) for p in first), reverse=True)
    top_score, top = scored[0]
    repair = f"This program scored {top_score:.2f} out of 1. Fix its weaknesses:\n{top}"
    second = extract_code(language_model.batch_prompt(expertise, [repair] * 2))
    return max(second + [top], key=utility)
