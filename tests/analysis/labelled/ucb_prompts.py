import math

from helpers import extract_code

STYLES = [
    "Rewrite the program with a better algorithm, not just micro-optimizations.",
    "Vectorize the program with numpy wherever it loops over data.",
    "Find the bug that costs the most points and fix only that.",
]


def improve_algorithm(initial_solution, utility, language_model):
    counts = [0] * len(STYLES)
    rewards = [0.0] * len(STYLES)
    best, best_score = None, -1.0
    for t in range(1, 4):
        ucb = [rewards[i] / counts[i] + math.sqrt(2 * math.log(t) / counts[i]) if counts[i] else float("inf")
               for i in range(len(STYLES))]
        arm = ucb.index(max(ucb))
        message = f"{STYLES[arm]}\n```python\n{initial_solution}\n```"
        program = extract_code(language_model.prompt("You are an expert.", message)[0])
        reward = utility(program)
        counts[arm] += 1
        rewards[arm] += reward
        if reward > best_score:
            best, best_score = program, reward
    return best
