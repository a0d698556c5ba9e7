"""Invariants of the billing engine over generated months (hypothesis)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.billing import ConsentEvent, Minutes, MonthFacts, Policy, evaluate
from bot.billing.engine import with_minutes

STAFF_FAMILY, PRAC_FAMILY, COMPLEX_FAMILY = {"99490", "99439"}, {"99491", "99437"}, {"99487", "99489"}
BASE_OF = {"99439": "99490", "99437": "99491", "99489": "99487", "99425": "99424", "99427": "99426", "99458": "99457"}

minutes_entry = st.builds(
    Minutes,
    program=st.sampled_from(["CCM", "CCM", "PCM", "RPM", "BHI"]),
    track=st.sampled_from(["clinical_staff", "practitioner", "non_clinical"]),
    minutes=st.integers(1, 90),
    day=st.integers(1, 28),
)


PROGRAMS = ["CCM", "PCM", "RPM", "BHI"]


@st.composite
def month_facts(draw: st.DrawFn) -> MonthFacts:
    month = date(draw(st.sampled_from([2025, 2026])), draw(st.integers(1, 12)), 1)
    entries = tuple(Minutes(m.program, m.track, m.minutes, month.replace(day=m.day)) for m in draw(st.lists(minutes_entry, max_size=8)))
    # Consent granted long before or inside the month, for today's billing practitioner or another.
    consent_day = st.one_of(st.just(date(2024, 1, 1)), st.integers(1, 28).map(lambda d: month.replace(day=d)))
    consents = tuple(
        ConsentEvent(p, "granted", draw(consent_day), draw(st.booleans()) or draw(st.booleans()))
        for p in draw(st.sets(st.sampled_from(PROGRAMS)))
    )
    return MonthFacts(
        month=month,
        minutes=entries,
        consents=consents,
        chronic_conditions=draw(st.integers(0, 4)),
        care_plan_date=date(2024, 1, 1),
        initiating_visit_date=draw(st.one_of(st.just(date(2023, 12, 1)), st.integers(1, 28).map(lambda d: month.replace(day=d)))),
        complex_mdm=draw(st.booleans()),
        enrolments=tuple(draw(st.sets(st.sampled_from(PROGRAMS), min_size=1))),
        rpm_last_contact=draw(st.one_of(st.none(), st.integers(1, 28).map(lambda d: month.replace(day=d)))),
        has_billing_practitioner=draw(st.booleans()) or draw(st.booleans()),
    )


policies = st.builds(Policy, pool_practitioner_minutes=st.sampled_from(["always", "below_threshold"]), cap_99437=st.integers(0, 3))


@settings(max_examples=600, deadline=None)
@given(month_facts(), policies)
def test_code_set_invariants(facts, policy):
    result = evaluate(facts, policy)
    billed = {c.code for c in result.codes}
    units = {c.code: c.units for c in result.codes}
    assert not (billed & STAFF_FAMILY and billed & PRAC_FAMILY)  # never 99490 family with 99491 family
    assert not (billed & COMPLEX_FAMILY and billed & (STAFF_FAMILY | PRAC_FAMILY))  # never complex with non-complex
    for addon, base in BASE_OF.items():
        assert addon not in billed or base in billed  # never an add-on without its base
    assert units.get("99439", 0) <= 2
    assert units.get("99437", 0) <= policy.cap_99437
    assert not ({"99457", "99470"} <= billed)
    # every minute in at most one family: the minutes behind the codes never exceed the countable minutes
    per_program = {}
    for line in result.codes:
        per_program.setdefault(line.program, set()).add(line.code)
    for program, program_codes in per_program.items():
        bases = [c for c in program_codes if c not in BASE_OF]
        assert len(bases) == 1
        first = {"99490": 20, "99491": 30, "99487": 60, "99424": 30, "99426": 30, "99457": 20, "99470": 10, "99484": 20}[bases[0]]
        step = {"99490": 20, "99491": 30, "99487": 30, "99424": 30, "99426": 30, "99457": 20, "99470": 0, "99484": 0}[bases[0]]
        addon_units = sum(units[c] for c in program_codes if c in BASE_OF)
        assert first + addon_units * step <= result.counted[program]
    # CCM and PCM never billed together for the same practitioner
    assert not ("CCM" in per_program and "PCM" in per_program)


@settings(max_examples=600, deadline=None)
@given(month_facts(), minutes_entry)
def test_more_minutes_never_lower_the_payment_under_the_default_policy(facts, extra):
    before = evaluate(facts)
    more = with_minutes(facts, Minutes(extra.program, extra.track, extra.minutes, facts.month.replace(day=extra.day)))
    after = evaluate(more)
    assert after.total >= before.total


@settings(max_examples=300, deadline=None)
@given(month_facts())
def test_non_clinical_minutes_change_nothing(facts):
    clinical = facts._replace(minutes=tuple(m for m in facts.minutes if m.track != "non_clinical"))
    assert evaluate(facts).codes == evaluate(clinical).codes


@settings(max_examples=600, deadline=None)
@given(month_facts(), policies)
def test_no_code_without_its_gates(facts, policy):
    """A billed program has a billing practitioner, a grant given for that practitioner, and
    counts no minute dated before that grant or (CCM, PCM, BHI) before the initiating visit;
    RPM also has a live call on or after its consent."""
    result = evaluate(facts, policy)
    last = date(facts.month.year + facts.month.month // 12, facts.month.month % 12 + 1, 1)
    for program in {c.program for c in result.codes}:
        assert facts.has_billing_practitioner
        grants = [e.day for e in facts.consents if e.program == program and e.status == "granted" and e.for_billing_practitioner and e.day < last]
        assert grants
        start = max(min(grants), facts.month)
        if program != "RPM" and facts.initiating_visit_date and facts.initiating_visit_date > start:
            start = facts.initiating_visit_date
        countable = sum(m.minutes for m in facts.minutes if m.program == program and m.track != "non_clinical" and m.day >= start)
        assert result.counted[program] <= countable
        if program == "RPM":
            assert facts.rpm_last_contact is not None and facts.rpm_last_contact >= start


@settings(max_examples=300, deadline=None)
@given(month_facts(), policies)
def test_a_next_threshold_pays_more_than_what_is_billed(facts, policy):
    """The advice never points at a code that pays less than what the program bills now."""
    result = evaluate(facts, policy)
    for step in result.next:
        billed = sum(c.amount for c in result.codes_for(step.program))
        if billed and step.code in {"99490", "99491", "99487", "99424", "99426", "99457", "99470", "99484"}:
            assert evaluate(facts, policy).codes  # a base code advised while billing: it must pay more
            from bot.billing.engine import code_amount

            assert code_amount(facts.month, step.code, policy) > billed

