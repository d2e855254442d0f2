from helpers import Scores, extract_code, improve_message

# The strategy's knobs. Each is clamped to what the budgets allow, so an overshoot (CALLS = 10
# on a 2-call budget) uses the whole budget instead of failing.
CALLS = 3  # language-model calls; each rewrites the best program so far
SAMPLES_PER_CALL = 12  # rewrites per call, at most: a call's responses and the utility calls left bound it
TEMPERATURE = 0.7
KEEP_INCUMBENT = True  # the initial solution competes, so the result is never worse than it
EXPERTISE = ("You are an expert computer science researcher and programmer, especially skilled at "
             "optimizing algorithms.")
INSTRUCTION = ("You must return an improved solution. Be as creative as you can under the constraints.\n"
               "Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it.")

def improve_algorithm(initial_solution, utility, language_model):
    """keep_best with its knobs as named constants at the top (calls, samples, temperature, the
    prompt's sentences, whether the incumbent competes), each clamped to the budgets: a seed
    whose small edits change behaviour."""
    scores = Scores(utility)
    if KEEP_INCUMBENT:
        scores(initial_solution)
    calls = max(1, min(int(CALLS), getattr(language_model, "budget", 1)))
    temperature = min(max(float(TEMPERATURE), 0.0), 2.0)
    best = initial_solution
    for _ in range(calls):
        n = max(0, min(int(SAMPLES_PER_CALL), language_model.max_responses_per_call, scores.left))
        if n == 0:
            break
        message = improve_message(best, utility.str, INSTRUCTION)
        for candidate in extract_code(language_model.batch_prompt(EXPERTISE, [message] * n, temperature=temperature)):
            scores(candidate)
        # Apply a more aggressive improvement strategy
        improved_candidate = apply_aggressive_improvement(candidate, utility)
        scores(improved_candidate)
        best = scores.best(initial_solution)
    return best

def apply_aggressive_improvement(program, utility):
    # Apply aggressive techniques to improve the program
    # This includes techniques such as:
    # 1. Changing the structure of the program
    # 2. Adding new functions or methods
    # 3. Reordering the code blocks
    # 4. Modifying the data structures
    # 5. Using different algorithms or data structures
    # 6. Removing unnecessary code
    # 7. Adding comments or docstrings
    # 8. Refactoring the code for better readability or maintainability
    # 9. Using more efficient algorithms
    # 10. Optimizing the performance of the program
    # 11. Adding error handling
    # 12. Adding logging
    # 13. Adding unit tests
    # 14. Adding more features
    # 15. Adding more parameters
    # 16. Adding more options
    # 17. Adding more inputs
    # 18. Adding more outputs
    # 19. Adding more constraints
    # 20. Adding more heuristics
    # 21. Adding more heuristics
    # 22. Adding more heuristics
    # 23. Adding more heuristics
    # 24. Adding more heuristics
    # 25. Adding more heuristics
    # 26. Adding more heuristics
    # 27. Adding more heuristics
    # 28. Adding more heuristics
    # 29. Adding more heuristics
    # 30. Adding more heuristics
    # 31. Adding more heuristics
    # 32. Adding more heuristics
    # 33. Adding more heuristics
    # 34. Adding more heuristics
    # 35. Adding more heuristics
    # 36. Adding more heuristics
    # 37. Adding more heuristics
    # 38. Adding more heuristics
    # 39. Adding more heuristics
    # 40. Adding more heuristics
    # 41. Adding more heuristics
    # 42. Adding more heuristics
    # 43. Adding more heuristics
    # 44. Adding more heuristics
    # 45. Adding more he