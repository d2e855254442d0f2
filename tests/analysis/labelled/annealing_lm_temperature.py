import numpy as np

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    rng = np.random.default_rng(0)
    state = initial_solution
    energy = -utility(state)
    T = 1.0
    while T > 0.2:
        proposal = extract_code(language_model.batch_prompt(
            "You are a code optimizer.", [f"Propose a neighbour of this program:\n{state}"],
            temperature=min(1.2, 0.3 + T))[0])
        new_energy = -utility(proposal)
        if new_energy < energy or rng.random() < np.exp((energy - new_energy) / T):
            state, energy = proposal, new_energy
        T = T * 0.5
    return state
