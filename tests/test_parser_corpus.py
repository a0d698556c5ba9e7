"""The parser against a corpus of realistic messages with their expected readings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.parsing import parse_message

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "data" / "parser_corpus.jsonl").read_text().splitlines() if line.strip()]


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 300
    assert sum(1 for c in CORPUS if c.get("error")) >= 25
    assert sum(1 for c in CORPUS if not c.get("error") and not c["entries"]) >= 30


@pytest.mark.parametrize("case", CORPUS, ids=[f"{i}:{c['text'][:40]}" for i, c in enumerate(CORPUS)])
def test_corpus_message(case):
    result = parse_message(case["text"], date.fromisoformat(case["today"]))
    if case.get("error"):
        assert result.error is not None and result.error.code == case["error"], result
        assert not result.entries
        assert len(result.error.message) > 20
    else:
        assert result.error is None, result.error
        assert [e.as_dict() for e in result.entries] == case["entries"]
