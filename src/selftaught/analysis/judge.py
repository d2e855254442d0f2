"""An optional second opinion on an improver's strategies: ask a language model.

The judge goes through the LM layer like any other caller (a `LanguageModel`: budgets,
cache and accounting apply) and may only answer with names from the catalogue; anything
else in its answer is ignored. It complements `strategies.detect`, it never overrides it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from selftaught.analysis.strategies import STRATEGIES
from selftaught.lm.protocol import LanguageModel

EXPERTISE = "You are a careful reviewer of search algorithms written in Python."
PROMPT = """Which of these strategies does the improver below use? An improver receives a program, a
utility that scores programs and a language model, and returns an improved program.

Strategies:
{catalogue}

Improver:
```python
{source}
```

Answer with a JSON list of the strategy names it really uses (judge the code, not its comments),
for example ["local_search", "uses_feedback"], or [] for none."""


@dataclass(frozen=True)
class JudgeVerdict:
    labels: frozenset[str]
    answer: str  # the judge's raw answer, for the record


def judge_strategies(source: str, lm: LanguageModel, temperature: float = 0.0,
                     max_source_chars: int = 12000) -> JudgeVerdict:
    """One `prompt` call; labels outside the catalogue are dropped."""
    catalogue = "\n".join(f"- {name}: {text}" for name, text in STRATEGIES.items())
    message = PROMPT.format(catalogue=catalogue, source=source[:max_source_chars])
    answers = lm.prompt(EXPERTISE, message, n_responses=1, temperature=temperature)
    answer = answers[0] if answers else ""
    return JudgeVerdict(parse_labels(answer), answer)


def parse_labels(answer: str) -> frozenset[str]:
    """Known strategy names in the last JSON list of the answer, or named anywhere if none parses."""
    for candidate in reversed(re.findall(r"\[[^\[\]]*\]", answer)):
        try:
            items = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(items, list):
            return frozenset(i for i in items if isinstance(i, str) and i in STRATEGIES)
    words = set(re.findall(r"[a-z_]+", answer.lower()))
    return frozenset(name for name in STRATEGIES if name in words)
