"""Complex CCM marks in storage: the checks before any write, the audit trail, and the patients
CSV's complex columns (applied to the month of the import)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import ClosedMonth, FutureDate, InvalidValue
from storage.models import AuditEvent, PatientMonthFact
from storage.months import close_month, complex_marks, set_complex_month
from storage.roster import ImportRejected, import_patients_csv, import_staff_csv
from tests.conftest import TODAY, Roster

NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)
EXAMPLES = Path(__file__).resolve().parents[2] / "bot" / "examples"


def facts(session: Session) -> list[tuple[int, date, bool, str | None]]:
    session.expire_all()
    rows = session.scalars(select(PatientMonthFact).order_by(PatientMonthFact.id))
    return [(f.patient_id, f.month, f.complex_mdm, f.complex_reason) for f in rows]


def audits(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "patient_month_fact").order_by(AuditEvent.id)))


def test_mark_update_unmark_each_audited_with_before_and_after(session: Session, roster: Roster) -> None:
    patient = roster.patient("123")
    assert set_complex_month(session, patient, date(2026, 11, 14), reason="  new insulin regimen ", by=roster.doctor, today=TODAY) == "marked"
    assert facts(session) == [(patient.id, NOV, True, "new insulin regimen")]
    assert set_complex_month(session, patient, NOV, reason="new insulin regimen", by=roster.doctor, today=TODAY) == "unchanged"
    assert set_complex_month(session, patient, NOV, reason="insulin pump, 3 specialists", by=roster.doctor, today=TODAY) == "updated"
    assert complex_marks(session, NOV) == {patient.id: complex_marks(session, NOV, [patient.id])[patient.id]}
    mark = complex_marks(session, NOV)[patient.id]
    assert (mark.reason, mark.marked_by, mark.month) == ("insulin pump, 3 specialists", "Dr. Okafor", NOV)
    assert set_complex_month(session, patient, NOV, reason=None, by=roster.doctor, today=TODAY) == "unmarked"
    assert set_complex_month(session, patient, NOV, reason=None, by=roster.doctor, today=TODAY) == "not_marked"
    assert facts(session) == [(patient.id, NOV, False, None)] and complex_marks(session, NOV) == {}

    rows = audits(session)
    assert [r.action for r in rows] == ["complex.mark", "complex.mark", "complex.unmark"]  # the repeats wrote nothing
    assert all(r.actor_id == roster.doctor.id for r in rows)
    assert rows[0].before is None
    assert rows[0].after == {"complex_mdm": True, "reason": "new insulin regimen", "marked_by_id": roster.doctor.id, "patient_id": patient.id, "month": "2026-11-01"}
    assert rows[1].before == {"complex_mdm": True, "reason": "new insulin regimen", "marked_by_id": roster.doctor.id}
    assert rows[1].after["reason"] == "insulin pump, 3 specialists"
    assert rows[2].before["complex_mdm"] is True and rows[2].after["complex_mdm"] is False and rows[2].after["reason"] is None


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        ("", "needs a reason"),
        ("   ", "needs a reason"),
        ("ok", "3 to 200 characters; this one has 2"),
        ("x" * 201, "3 to 200 characters; this one has 201"),
        ("new\ninsulin", "control character"),
        ("new\tinsulin", "control character"),
        ("new\x00insulin", "control character"),
    ],
)
def test_a_bad_reason_is_refused_before_anything_is_written(session: Session, roster: Roster, reason: str, why: str) -> None:
    patient = roster.patient("123")
    with pytest.raises(InvalidValue, match=why):
        set_complex_month(session, patient, NOV, reason=reason, by=roster.doctor, today=TODAY)
    assert facts(session) == [] and audits(session) == []


def test_reason_of_exactly_200_characters_is_kept_whole(session: Session, roster: Roster) -> None:
    patient = roster.patient("123")
    set_complex_month(session, patient, NOV, reason="y" * 200, by=roster.doctor, today=TODAY)
    session.commit()
    assert facts(session) == [(patient.id, NOV, True, "y" * 200)]


def test_closed_and_future_months_are_refused(session: Session, roster: Roster) -> None:
    patient = roster.patient("123")
    close_month(session, OCT, by=roster.doctor)
    before = len(list(session.scalars(select(AuditEvent))))
    with pytest.raises(ClosedMonth, match="October 2026 is closed"):
        set_complex_month(session, patient, OCT, reason="new insulin regimen", by=roster.doctor, today=TODAY)
    with pytest.raises(ClosedMonth):
        set_complex_month(session, patient, OCT, reason=None, by=roster.doctor, today=TODAY)
    with pytest.raises(FutureDate, match="December 2026 has not started"):
        set_complex_month(session, patient, date(2026, 12, 1), reason="new insulin regimen", by=roster.doctor, today=TODAY)
    assert facts(session) == []
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def patients_csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "patients.csv"
    header = "patient_key,billing_practitioner,chronic_conditions,care_plan_date,initiating_visit_date,ccm_consent_date,ccm_consent_method,programs,complex,complex_reason"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_the_import_marks_and_unmarks_this_month_and_a_second_run_changes_nothing(session: Session, tmp_path: Path) -> None:
    import_staff_csv(session, EXAMPLES / "staff.csv")
    marked = patients_csv(
        tmp_path,
        "123,Dr. Amara Okafor,3,2026-01-10,2025-12-02,2026-01-10,verbal,CCM,yes,new insulin regimen",
        "456,Dr. Amara Okafor,2,2026-03-04,2026-02-20,2026-03-04,written,CCM,,",
    )
    assert import_patients_csv(session, marked, today=TODAY) == (2, 2)
    [(_, month, flag, reason)] = facts(session)
    assert (month, flag, reason) == (NOV, True, "new insulin regimen")
    assert import_patients_csv(session, marked, today=TODAY) == (2, 0)
    assert [a.action for a in audits(session)] == ["complex.mark"]
    [mark] = complex_marks(session, NOV).values()
    assert mark.marked_by is None  # the import: the operator at the shell

    unmarked = patients_csv(tmp_path, "123,Dr. Amara Okafor,3,2026-01-10,2025-12-02,2026-01-10,verbal,CCM,no,")
    assert import_patients_csv(session, unmarked, today=TODAY) == (1, 1)
    assert complex_marks(session, NOV) == {}
    assert import_patients_csv(session, unmarked, today=TODAY) == (1, 0)


def test_complex_yes_without_a_reason_is_a_row_error_and_nothing_is_imported(session: Session, tmp_path: Path) -> None:
    import_staff_csv(session, EXAMPLES / "staff.csv")
    session.commit()
    bad = patients_csv(
        tmp_path,
        "123,Dr. Amara Okafor,3,2026-01-10,2025-12-02,2026-01-10,verbal,CCM,yes,new insulin regimen",
        "456,Dr. Amara Okafor,2,2026-03-04,2026-02-20,2026-03-04,written,CCM,yes,",
        "457,Dr. Amara Okafor,2,2026-03-04,2026-02-20,2026-03-04,written,CCM,maybe,",
        "458,Dr. Amara Okafor,2,2026-03-04,2026-02-20,2026-03-04,written,CCM,,a reason without yes",
        "459,Dr. Amara Okafor,2,2026-03-04,2026-02-20,2026-03-04,written,CCM,yes,ok",
    )
    with pytest.raises(ImportRejected) as info:
        import_patients_csv(session, bad, today=TODAY)
    session.rollback()  # the door rolls back what the refused import flushed
    assert [(p.line, p.column) for p in info.value.problems] == [(3, "complex_reason"), (4, "complex"), (5, "complex_reason"), (6, "complex_reason")]
    assert str(info.value).startswith("patients.csv line 3, column complex_reason: complex is yes, so say why")
    assert facts(session) == []


def test_the_import_refuses_complex_columns_when_this_month_is_closed(session: Session, roster: Roster, tmp_path: Path) -> None:
    import_staff_csv(session, EXAMPLES / "staff.csv")
    close_month(session, NOV, by=roster.doctor)
    session.commit()
    path = patients_csv(tmp_path, "123,Dr. Amara Okafor,3,2026-01-10,2025-12-02,2026-01-10,verbal,CCM,yes,new insulin regimen")
    with pytest.raises(ImportRejected, match="column complex: November 2026 is closed"):
        import_patients_csv(session, path, today=TODAY)
    session.rollback()
    assert facts(session) == []
