from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    expertise = "You are an expert computer scientist."
    beam_width, depth = 2, 2
    beam = [initial_solution]
    for _ in range(depth):
        candidates = []
        for solution in beam:
            message = f"Improve this solution:\n```python\n{solution}\n```\n{utility.str}"
            responses = language_model.batch_prompt(expertise, [message] * 2, temperature=0.7)
            candidates.extend(extract_code(responses))
        beam = sorted(candidates, key=utility, reverse=True)[:beam_width]
    return beam[0]
