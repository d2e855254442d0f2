from helpers import extract_code
from typing import Callable, List

def improve_algorithm(initial_solution: str, utility: Callable[[str], float], language_model: Callable[[str, float, int], str]) -> str:
    """Improves a solution according to a utility function."""
    expertise = (
        "You are an expert computer science researcher and programmer, especially skilled at "
        "optimizing algorithms."
    )
    message = f"""Improve the following solution:
```python
{initial_solution}
```

You will be evaluated based on this score function:
```python
{utility.__doc__}
```

You must return an improved solution. Be as creative as you can under the constraints.
Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""
    n_messages = min(language_model.max_responses_per_call, utility.budget)
    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)
    new_solutions = extract_code(new_solutions)
    best_solution = max(new_solutions, key=utility)
    return best_solution

def meta_utility(improve_str: str) -> float:
    """Scores an improver: the mean downstream utility of the programs it produces.

    improve_str must define improve_algorithm(initial_solution, utility, language_model) and
    return the improved program as a string. The evaluation harness provides the tasks
    (fibonacci, string_grid_distance, parity; each has a seed program `algorithm_str` and its `utility`) and
    `LanguageModel`; improve_str receives them as arguments and cannot import them.
    This meta-utility can be called 6 times.
    """
    n_tests = 2
    expected_utility = 0.0
    for task in [fibonacci, string_grid_distance, parity]:
        for _ in range(n_tests):
            # A fresh utility (at most 6 calls) and a fresh language model (at
            # most 2 calls of at most 3 responses each) for every run.
            # The run happens in a sandbox and is stopped after 1800 s.
            utility = task.utility
            language_model = LanguageModel(budget=2)
            improved_algorithm_str = improve_algorithm(task.algorithm_str, utility, language_model)
            expected_utility += utility(improved_algorithm_str) / (n_tests * 3)  # failure: 0
    return expected_utility

# Example usage:
if __name__ == "__main__":
    fibonacci = lambda: """
    def fibonacci(n):
        if n == 0:
            return 0
        elif n == 1:
            return 1
        else:
            return fibonacci(n-1) + fibonacci(n-2)
    """
    string_grid_distance = lambda: """
    def string_grid_distance(s1, s2):
        n = len(s1)
        m = len(s2)
        dp = [[0] * (m + 1) for _ in range(n + 1)]
        
        for i in range(n + 1):
            dp[i][0] = i
        for j in range(m + 1):
            dp[0][j] = j
        
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                if s1[i - 1] == s2[j - 1]:
                    dp[i][j] = dp[i - 1][j - 1]
                else:
                    dp[i][j] = 1 + min(dp[i - 1][j], dp[i][j - 1])
        
        return dp[n][m]
    """
    parity = lambda: """
    def parity(x):
        return x % 2
    """
    
    # Improve the fibonacci algorithm
    improved_fibonacci = improve_algorithm(fibonacci, fibonacci.utility, LanguageModel(budget=2))
    print(f"Improved Fibonacci algorithm: {improved_fibonacci}")
    
    # Improve the string grid distance algorithm
    improved_string_grid_distance = improve_algorithm(string_grid_distance, string_grid_distance.utility, LanguageModel(budget=2))
    print(f"Improved string grid distance algorithm: {improved_string_grid_distance}")
    
    # Improve the parity algorithm
    improved_parity = improve_algorithm(parity, parity.utility, LanguageModel(budget=2))
    print(f"Improved parity algorithm: {improved_parity}")