from helpers import Scores, calls_and_samples, extract_code, improve_message


def improve_algorithm(initial_solution, utility, language_model):
    """Rewrites, then one repair round: a rewrite that scored 0 goes back to the model with its
    error (a syntax error is found here; for the rest it asks utility.failure, selftaught's
    extension of the paper's interface, which costs no utility call)."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    scores(initial_solution)
    calls, per_call = calls_and_samples(language_model, scores, wanted_calls=2)
    if scores.spent:
        return initial_solution
    message = improve_message(initial_solution, utility.str, "Return an improved solution in one code block.")
    failed = []
    for candidate in extract_code(language_model.batch_prompt(expertise, [message] * per_call, temperature=0.7)):
        if scores(candidate) == 0.0:
            failed.append(candidate)
    if calls > 1 and failed and not scores.spent:
        repairs = [f"""This program was meant to improve a solution, but it failed: {_why(program, utility)}
```python
{program}
```

It is scored by:
```python
{utility.str}
```

Fix it. Return the corrected program in one code block.""" for program in failed[:min(per_call, scores.left)]]
        for fixed in extract_code(language_model.batch_prompt(expertise, repairs, temperature=0.3)):
            scores(fixed)
    return scores.best(initial_solution)


def _why(program, utility):
    try:
        compile(program, "<candidate>", "exec")
    except SyntaxError as exc:
        return f"SyntaxError on line {exc.lineno}: {exc.msg}."
    failure = getattr(utility, "failure", None)  # absent from a plain utility of the paper's interface
    account = failure(program) if failure is not None else ""
    return account or "it scored 0 (an exception, a timeout or a wrong answer)."
