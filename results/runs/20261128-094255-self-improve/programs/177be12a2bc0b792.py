import random
import time

def meta_utility(improve_str: str) -> float:
    """Scores an improver: the mean downstream utility of the programs it produces.

    improve_str must define improve_algorithm(initial_solution, utility, language_model) and
    return the improved program as a string. The evaluation harness provides the tasks
    (lpn; each has a seed program `algorithm_str` and its `utility`) and
    `LanguageModel`; improve_str receives them as arguments and cannot import them.
    This meta-utility can be called 6 times.
    """
    n_tests = 2
    expected_utility = 0.0
    for task in [lpn]:
        for _ in range(n_tests):
            # A fresh utility (at most 6 calls) and a fresh language model (at
            # most 2 calls of at most 3 responses each) for every run.
            # The run happens in a sandbox and is stopped after 1800 s.
            utility = task.utility
            language_model = LanguageModel(budget=2)
            improved_algorithm_str = improve_algorithm(task.algorithm_str, utility, language_model)
            expected_utility += utility(improved_algorithm_str) / (n_tests * 1)  # failure: 0
    return expected_utility