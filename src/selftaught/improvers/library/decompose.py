import ast

from helpers import Scores, calls_and_samples, extract_code


def improve_algorithm(initial_solution, utility, language_model):
    """Decomposition: improve one top-level function at a time, splicing each rewrite back into
    the whole program, and keep a splice only if the program scores higher."""
    expertise = "You are an expert Python programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    best, best_score = initial_solution, scores(initial_solution) or 0.0
    calls, per_call = calls_and_samples(language_model, scores, wanted_calls=4)
    try:
        functions = [n.name for n in ast.parse(initial_solution).body if isinstance(n, ast.FunctionDef)]
    except SyntaxError:
        functions = []
    for i in range(calls):
        if scores.spent:
            break
        name = functions[i % len(functions)] if functions else None
        part = _function_source(best, name) if name else None
        if part is None:  # nothing to split: rewrite the whole program
            part, name = best, None
        message = f"""This function is part of a larger program:
```python
{part}
```

The whole program is scored by:
```python
{utility.str}
```

Return an improved version of this one function, with the same name and arguments, in one code block."""
        for rewrite in extract_code(language_model.batch_prompt(expertise, [message] * per_call, temperature=0.7)):
            if name and _function_source(rewrite, name) is None:
                continue  # no code, or not the function asked for: splicing it in would delete or break it
            candidate = best.replace(part, rewrite) if name else rewrite
            score = scores(candidate)
            if score is not None and score > best_score:
                best, best_score = candidate, score
    return best


def _function_source(program, name):
    try:
        for node in ast.parse(program).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(program, node)
    except SyntaxError:
        return None
    return None
