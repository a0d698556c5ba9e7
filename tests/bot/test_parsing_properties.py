"""Invariants of the parser over generated input (hypothesis)."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import parsing
from bot.parsing import parse_message

ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}


def words(n: int) -> str:
    if n < 10:
        return ONES[n]
    if n < 20:
        return TEENS[n - 10]
    tens, ones = divmod(n, 10)
    return TENS[tens] + (("-" if ones % 2 else " ") + ONES[ones] if ones else "")


@st.composite
def written_duration(draw: st.DrawFn) -> tuple[str, int]:
    minutes = draw(st.integers(1, 240))
    hours, rest = divmod(minutes, 60)
    forms = [f"{minutes} min", f"{minutes}m", f"{minutes} mins", f"{minutes} minutes", f"{minutes}min"]
    if minutes < 100:
        forms += [f"{words(minutes)} minutes", f"{words(minutes)} min"]
    if hours and rest:
        forms += [f"{hours}h{rest}m", f"{hours}h {rest}m", f"{hours} hr {rest} min", f"{hours} hours {rest} minutes", f"{hours} hrs and {rest} mins"]
    if hours and rest:
        # Minutes after the hours need no unit: "1h15", "1 hr 15", "1 hour 15", "1hr15".
        forms += [f"{hours}h{rest}", f"{hours} hr {rest}", f"{hours} {'hour' if hours == 1 else 'hours'} {rest}", f"{hours}hr{rest}"]
        if hours == 1:
            forms.append(f"an hour {rest}")
    forms += [f"{minutes}-min", f"{minutes}mn", f"{minutes}'", f"{minutes} mintues", f"{minutes} minuets", f"{minutes} mni"]
    if hours and not rest:
        forms += [f"{hours}h", f"{hours} hr", f"{hours} hours", f"{hours} hrs"]
    if minutes % 30 == 0:
        forms.append(f"{minutes / 60:g} hours")
    if minutes % 6 == 0:
        forms.append(f"{minutes / 60:g} h")
    named = {15: ["a quarter hour", "quarter hour"], 30: ["half an hour", "half hour"], 60: ["an hour", "one hour"], 90: ["an hour and a half"]}
    forms += named.get(minutes, [])
    return draw(st.sampled_from(forms)), minutes


@settings(max_examples=400, deadline=None)
@given(written_duration(), st.sampled_from(["pt 1 {d} care plan", "{d} med review for patient 1", "patient 1: {d}", "#1 {d} labs yesterday"]))
def test_every_duration_form_reads_as_the_same_minutes(duration, template):
    text, minutes = duration
    result = parse_message(template.format(d=text), date(2026, 11, 27))
    assert result.error is None, (text, result.error)
    assert [e.minutes for e in result.entries] == [minutes]


FRAGMENTS = st.sampled_from(
    ["pt 1", "patient 0042", "15 min", "1h", "half an hour", "yesterday", "today", "monday", "last friday", "11/3", "12/31", "nov 30",
     "dec 3", "on the 28th", "on the 2nd", "3 days ago", "2026-12-01", "2025-01-01", "1/1/27", "med review", "care plan", ",", "and",
     "\n", "each", "pt 2", "the 31st", "feb 29", "september 31", "sunday"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(FRAGMENTS, min_size=1, max_size=8), st.dates(date(2024, 1, 1), date(2028, 12, 31)))
def test_no_date_in_the_output_is_after_today(fragments, today):
    result = parse_message(" ".join(fragments), today)
    assert all(e.date <= today for e in result.entries)
    assert all(e.date >= today - timedelta(days=366 * 5) for e in result.entries)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 6), st.integers(1, 10**8), st.sampled_from(["pt {k} 15 min call", "patient {k}: 20 min", "MRN {k} 30 min labs", "#{k} 10m vm", "pt #{k}'s wife 15 min"]))
def test_patient_keys_keep_their_leading_zeros(zeros, number, template):
    key = "0" * zeros + str(number)
    result = parse_message(template.format(k=key), date(2026, 11, 27))
    assert [e.patient for e in result.entries] == [key]


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=200), st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_the_parser_never_raises_on_arbitrary_text(text, today):
    # _parse itself, not the safety net in parse_message: only coded errors may come out.
    with contextlib.suppress(parsing._Fail):
        parsing._parse(text, today, 240)


@settings(max_examples=500, deadline=None)
@given(st.lists(FRAGMENTS | st.text(max_size=12), max_size=10), st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_the_parser_never_raises_on_near_miss_text(fragments, today):
    with contextlib.suppress(parsing._Fail):
        parsing._parse(" ".join(fragments), today, 240)


FUTURE_WORDS = st.sampled_from(
    ["tomorrow", "tmrw", "next week", "next monday", "next Friday", "in 2 days", "in a week", "next month", "in three days", "day after tomorrow"]
)
DATED = st.sampled_from(["", "yesterday", "today", "monday", "last friday", "11/3", "on the 2nd", "2 days ago"])


@settings(max_examples=400, deadline=None)
@given(FUTURE_WORDS, DATED, st.sampled_from(["pt 1 15 min call {w} {d}", "{d} 20 min care plan for patient 0042 {w}", "{w}: pt 7 10 min labs", "pt 3 5 min vm, {w} {d}"]), st.dates(date(2024, 1, 1), date(2028, 12, 31)))
def test_a_future_word_never_logs_today_or_later(word, dated, template, today):
    result = parse_message(template.format(w=word, d=dated), today)
    assert not result.entries
    assert result.error is not None


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 120), st.integers(1, 120), st.sampled_from(["{a}-{b} min", "{a} - {b} minutes", "{a} to {b} minutes", "{a} or {b} min", "{a}-{b}m"]),
       st.sampled_from(["pt 12 {r} call", "{r} care plan for patient 5", "pt 1 labs {r} yesterday", "#9 {r}"]))
def test_a_range_of_minutes_never_yields_an_entry(a, b, form, template):
    result = parse_message(template.format(r=form.format(a=a, b=b)), date(2026, 11, 27))
    assert not result.entries
    assert result.error is not None and result.error.code == "ambiguous_minutes"


@settings(max_examples=300, deadline=None)
@given(FRAGMENTS, st.dates(date(2024, 1, 1), date(2028, 12, 31)))
def test_an_entry_is_never_before_last_month_in_chat(fragment, today):
    result = parse_message(f"pt 1 15 min call {fragment}", today)
    first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert all(first_of_last_month <= e.date <= today for e in result.entries)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**6), st.sampled_from(["\u200b", "\u200d", "\ufeff", "\u202e", "\u2066", "\u0301"]), st.integers(0, 6))
def test_invisible_characters_never_change_the_key(number, mark, where):
    key = str(number)
    cut = min(where, len(key))
    text = f"pt {key[:cut]}{mark}{key[cut:]} 15 min call"
    result = parse_message(text, date(2026, 11, 27))
    assert [e.patient for e in result.entries] == [key]
