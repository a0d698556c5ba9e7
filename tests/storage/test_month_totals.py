"""The ledger's month totals and staff month minutes always equal the sums of the active entries."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.entries import EntryDraft, log_entries, rebuild_month_totals, replace_source, void_source
from storage.queries import minutes_by_staff, minutes_by_staff_from_entries, month_minutes, month_totals
from tests.conftest import TODAY, Roster, clear_tables

operation = st.tuples(
    st.sampled_from(["log", "void", "edit", "retry"]),
    st.integers(0, 5),  # message number
    st.integers(1, 60),  # minutes
    st.sampled_from(["A", "B"]),  # patient
    st.sampled_from([date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 20)]),
    st.sampled_from([None, "RPM"]),
    st.sampled_from(["nurse", "doctor", "clerk"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_totals_match_entries_after_any_sequence(db, ops):
    clear_tables(db)
    with db.session() as s:
        roster = Roster(s)
        patients = {"A": roster.patient("A"), "B": roster.patient("B")}
        for n, (kind, msg, minutes, key, day, program, who) in enumerate(ops):
            staff = getattr(roster, who)
            group = f"m{msg}"
            draft = [EntryDraft(key, minutes, day, "care_plan", program)]
            if kind in ("log", "retry"):
                log_entries(s, draft, performed_by=staff, logged_by=staff, source="cli", source_group=group, today=TODAY, max_minutes=240)
            elif kind == "void":
                void_source(s, group, by=roster.doctor, reason="test")
            else:
                replace_source(
                    s, group, draft, revision=f"r{n}", performed_by=staff, logged_by=roster.doctor, source="cli", today=TODAY, max_minutes=240
                )
        for month in (date(2026, 10, 1), date(2026, 11, 1)):
            end = date(2026, 10, 31) if month.month == 10 else date(2026, 11, 30)
            kept = month_totals(s, month)
            summed = month_minutes(s, month, end)
            assert kept == summed
            # Minutes by staff from the kept staff minutes equal the entries' own sums, for the
            # whole month and for the month up to a day (which has entries after it: the entries).
            for until in (end, month.replace(day=20)):
                assert minutes_by_staff(s, month, until) == minutes_by_staff_from_entries(s, month, until)
        rebuild_month_totals(s)
        assert minutes_by_staff(s, date(2026, 11, 1), date(2026, 11, 30)) == minutes_by_staff_from_entries(s, date(2026, 11, 1), date(2026, 11, 30))
        assert month_totals(s, date(2026, 11, 1)) == month_minutes(s, date(2026, 11, 1), date(2026, 11, 30))
        assert set(month_totals(s, date(2026, 11, 1))) <= {p.id for p in patients.values()}
