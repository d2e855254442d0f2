import re

from helpers import Scores, calls_and_samples

# Markers on lines of their own; either side may be empty (an empty REPLACE deletes its SEARCH).
EDIT = re.compile(r"^<<<<<<< SEARCH[ \t]*\n(.*?)\n?^=======[ \t]*\n(.*?)\n?^>>>>>>> REPLACE", re.S | re.M)


def improve_algorithm(initial_solution, utility, language_model):
    """Edits instead of rewrites: the model answers with SEARCH/REPLACE blocks, applied to the
    program in order; an edit whose SEARCH text is not found is skipped."""
    expertise = "You are an expert computer science researcher and programmer, especially skilled at optimizing algorithms."
    scores = Scores(utility)
    scores(initial_solution)
    calls, per_call = calls_and_samples(language_model, scores, wanted_calls=2)
    for _ in range(calls):
        if scores.spent:
            break
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
            for search, replace in EDIT.findall(answer.replace("\r\n", "\n")):
                if search and search in edited:  # an empty SEARCH has no place in the program
                    edited = edited.replace(search, replace, 1)
            if edited != best:
                scores(edited)
    return scores.best(initial_solution)
