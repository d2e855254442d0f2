from helpers import Scores, calls_and_samples, extract_code, improve_message


def improve_algorithm(initial_solution, utility, language_model):
    """A genetic algorithm: a first population of rewrites, then children that combine two
    parents picked by fitness; the fittest program survives."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    scores(initial_solution)
    generations, size = calls_and_samples(language_model, scores, wanted_calls=3)
    if scores.spent:
        return initial_solution
    first = [improve_message(initial_solution, utility.str, "Return an improved solution in one code block.")] * size
    for child in extract_code(language_model.batch_prompt(expertise, first, temperature=0.9)):
        scores(child)
    for _ in range(generations - 1):
        if scores.spent:
            break
        ranked = scores.ranked() or [initial_solution]
        pairs = [(ranked[i % len(ranked)], ranked[(i + 1) % len(ranked)]) for i in range(size)]
        messages = [f"""Combine the best ideas of these two programs into one better program.

Program A:
```python
{a}
```

Program B:
```python
{b}
```

It will be scored by:
```python
{utility.str}
```

Return the combined program in one code block.""" for a, b in pairs]
        for child in extract_code(language_model.batch_prompt(expertise, messages, temperature=0.7)):
            scores(child)
    return scores.best(initial_solution)
