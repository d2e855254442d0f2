import math

from helpers import Scores, calls_and_samples, extract_code, improve_message

ARMS = (
    "Make it faster: use a better algorithm or data structure.",
    "Make it more accurate: handle every case the score function checks.",
    "Make it simpler and shorter without losing correctness.",
)


def improve_algorithm(initial_solution, utility, language_model):
    """A UCB bandit over prompt variants: each call uses the instruction whose rewrites have
    gained most so far, plus an exploration bonus; rewards are score gains over the best."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    base = scores(initial_solution) or 0.0
    calls, per_call = calls_and_samples(language_model, scores, wanted_calls=3)
    pulls, rewards = [0] * len(ARMS), [0.0] * len(ARMS)
    for t in range(1, calls + 1):
        if scores.spent:
            break
        arm = max(range(len(ARMS)), key=lambda a: float("inf") if pulls[a] == 0 else
                  rewards[a] / pulls[a] + math.sqrt(2 * math.log(t) / pulls[a]))
        best = scores.best(initial_solution)
        message = improve_message(best, utility.str, ARMS[arm] + " Return the program in one code block.")
        gained = 0.0
        for candidate in extract_code(language_model.batch_prompt(expertise, [message] * per_call, temperature=0.7)):
            score = scores(candidate)
            if score is not None:
                gained = max(gained, score - max(base, scores.seen.get(best, base)))
        pulls[arm] += 1
        rewards[arm] += gained
    return scores.best(initial_solution)
