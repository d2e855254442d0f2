from helpers import Scores, calls_and_samples, extract_code, improve_message


def improve_algorithm(initial_solution, utility, language_model):
    """Beam search over programs: each round rewrites the best few programs found so far."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    scores(initial_solution)
    rounds, width = calls_and_samples(language_model, scores, wanted_calls=3)
    beam = [initial_solution]
    for _ in range(rounds):
        if scores.spent:
            break
        parents = [beam[i % len(beam)] for i in range(width)]  # the beam's programs, round robin
        messages = [improve_message(p, utility.str, "Return an improved solution in one code block.") for p in parents]
        for child in extract_code(language_model.batch_prompt(expertise, messages, temperature=0.7)):
            scores(child)
        beam = scores.ranked()[:2] or beam
    return scores.best(initial_solution)
