"""The parser against corpora of realistic messages with their expected readings.

parser_corpus.jsonl is the first corpus; parser_corpus_staff.jsonl was written later, blind to the
parser, from the reading rules in docs/parsing.md, as staff really type. An expected entry states
the fields it cares about; "bare_key" is false unless stated, and "interactive" is checked where
the case gives it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.parsing import parse_message

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = [
    json.loads(line)
    for name in ("parser_corpus.jsonl", "parser_corpus_staff.jsonl")
    if (DATA / name).exists()
    for line in (DATA / name).read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 500
    assert sum(1 for c in CORPUS if c.get("error")) >= 60
    assert sum(1 for c in CORPUS if not c.get("error") and not c["entries"]) >= 40
    assert sum(1 for c in CORPUS for e in c.get("entries", []) if "interactive" in e) >= 150


def _as_expected(entry: dict, expected: dict) -> dict:
    fields = {key: entry[key] for key in expected if key != "note"}
    fields["bare_key"] = entry["bare_key"]
    return fields


@pytest.mark.parametrize("case", CORPUS, ids=[f"{i}:{c['text'][:40]}" for i, c in enumerate(CORPUS)])
def test_corpus_message(case):
    result = parse_message(case["text"], date.fromisoformat(case["today"]))
    if case.get("error"):
        assert result.error is not None and result.error.code == case["error"], result
        assert not result.entries
        assert len(result.error.message) > 20
    else:
        assert result.error is None, result.error
        expected = [{**e, "bare_key": e.get("bare_key", False)} for e in case["entries"]]
        expected = [{k: v for k, v in e.items() if k != "note"} for e in expected]
        assert [_as_expected(e.as_dict(), x) for e, x in zip(result.entries, expected, strict=False)] == expected
        assert len(result.entries) == len(expected)
