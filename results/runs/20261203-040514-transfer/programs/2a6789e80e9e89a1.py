import re

from helpers import Scores, calls_and_samples

EDIT = re.compile(r"<<<<<<< SEARCH\n(.*?)\n=======\n(.*?)\n>>>>>>> REPLACE", re.S)


def improve_algorithm(initial_solution, utility, language_model):
    """Edits instead of rewrites: the model answers with SEARCH/REPLACE blocks, applied to the
    program in order; an edit whose SEARCH text is not found is skipped."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    scores(initial_solution)
    calls, per_call = calls_and_samples(language_model, scores, wanted_calls=2)
    for _ in range(calls):
        best = scores.best(initial_solution)
        message = f"""Improve this program:
```python
{best}
```

It is scored by:
```python
{utility.str}
```

Answer with one or more edits, each in exactly this form (SEARCH must match the program's text):
<<<<<<< SEARCH
lines to replace
=======
new lines
>>>>>>> REPLACE"""
        for answer in language_model.batch_prompt(expertise, [message] * per_call, temperature=0.7):
            edited = best
            for search, replace in EDIT.findall(answer):
                if search in edited:
                    edited = edited.replace(search, replace, 1)
            if edited != best:
                scores(edited)
    return scores.best(initial_solution)
