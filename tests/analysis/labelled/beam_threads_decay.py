import heapq
from concurrent.futures import ThreadPoolExecutor

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    scores = {}

    def score(program):
        if program not in scores:
            scores[program] = utility(program)
        return scores[program]

    def expand(program, temperature):
        prompt = f"Rewrite this program so it scores higher.\n{program}\nScore:\n{utility.str}"
        return extract_code(language_model.batch_prompt("You are a strong programmer.", [prompt] * 2, temperature))

    beam, temperature = [initial_solution], 1.0
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=2) as pool:
            children = [c for batch in pool.map(lambda p: expand(p, temperature), beam) for c in batch]
        beam = heapq.nlargest(2, beam + children, key=score)
        temperature *= 0.7
    return beam[0]
