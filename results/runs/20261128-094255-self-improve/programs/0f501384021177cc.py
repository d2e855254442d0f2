from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
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
{utility.str}
```

You must return an improved solution. Be as creative as you can under the constraints.
Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""
    n_messages = min(language_model.max_responses_per_call, utility.budget)
    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)
    new_solutions = extract_code(new_solutions)
    best_solution = max(new_solutions, key=utility)

    # Use dynamic programming to find the most effective improvements
    memo = {}
    best_improvement = initial_solution

    def find_best_improvement(current_solution):
        if current_solution in memo:
            return memo[current_solution]

        best_utility = utility(current_solution)
        best_improvement = current_solution

        for improvement in find_all_possible_improvements(current_solution):
            improved_utility = utility(improvement)
            if improved_utility > best_utility:
                best_improvement = improvement
                best_utility = improved_utility

        memo[current_solution] = best_improvement
        return best_improvement

    # Generate all possible improvements
    def find_all_possible_improvements(current_solution):
        improvements = []
        for i in range(len(current_solution)):
            for j in range(i + 1, len(current_solution)):
                improved_solution = current_solution[:i] + current_solution[j] + current_solution[i+1:j] + current_solution[i] + current_solution[j+1:]
                improvements.append(improved_solution)
        return improvements

    best_improvement = find_best_improvement(best_solution)
    return best_improvement