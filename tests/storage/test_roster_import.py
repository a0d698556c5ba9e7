from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models import AuditEvent, Consent, Patient, Staff
from storage.roster import ImportRejected, find_staff, import_patients_csv, import_staff_csv
from tests.conftest import TODAY

EXAMPLES = Path(__file__).resolve().parents[2] / "bot" / "examples"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_example_files_import_and_reimport_changes_nothing(session):
    assert import_staff_csv(session, EXAMPLES / "staff.csv") == (6, 6)
    assert import_patients_csv(session, EXAMPLES / "patients.csv", today=TODAY) == (5, 5)
    audits, consents = count(session, AuditEvent), count(session, Consent)
    assert import_staff_csv(session, EXAMPLES / "staff.csv") == (6, 0)
    assert import_patients_csv(session, EXAMPLES / "patients.csv", today=TODAY) == (5, 0)
    assert (count(session, AuditEvent), count(session, Consent)) == (audits, consents)
    keys = session.scalars(select(Patient.key).order_by(Patient.key)).all()
    assert "0789" in keys and "00045123" in keys  # leading zeros kept
    p456 = session.scalars(select(Patient).where(Patient.key == "456")).one()
    assert p456.program_list == ["CCM", "RPM"]
    assert {c.program for c in session.scalars(select(Consent).where(Consent.patient_id == p456.id))} == {"CCM", "RPM"}


def test_bad_rows_reported_with_line_and_column_and_nothing_written(session, tmp_path):
    import_staff_csv(session, EXAMPLES / "staff.csv")
    bad = tmp_path / "patients.csv"
    bad.write_text(
        "patient_key,billing_practitioner,chronic_conditions,care_plan_date,ccm_consent_date,ccm_consent_method\n"
        "200,Dr. Amara Okafor,2,2026-01-01,2026-01-01,verbal\n"
        "201,Maria Santos,2,2026-01-01,,\n"
        "202,Dr. Amara Okafor,two,2026-13-01,,\n"
        "203,Dr. Amara Okafor,2,,2026-12-25,verbal\n"
        "200,Dr. Amara Okafor,2,,,\n"
    )
    with pytest.raises(ImportRejected) as info:
        import_patients_csv(session, bad, today=TODAY)
    session.rollback()  # the door rolls back what the refused import flushed
    problems = [(p.line, p.column) for p in info.value.problems]
    assert problems == [
        (3, "billing_practitioner"),
        (4, "chronic_conditions"),
        (4, "care_plan_date"),
        (5, "ccm_consent_date"),
        (6, "patient_key"),
    ]
    assert "patients.csv line 3, column billing_practitioner" in str(info.value)
    assert "not a billing practitioner" in str(info.value.problems[0])
    assert count(session, Patient) == 0 and count(session, Consent) == 0


def test_unknown_column_and_missing_required_column(session, tmp_path):
    f = tmp_path / "staff.csv"
    f.write_text("slack_user_id,nme,role\nU1,Ann,rn\n")
    with pytest.raises(ImportRejected) as info:
        import_staff_csv(session, f)
    session.rollback()  # the door rolls back what the refused import flushed
    assert {(p.line, p.column) for p in info.value.problems} == {(1, "name"), (1, "nme")}
    f.write_text("slack_user_id,name,role,admin\nU1,Ann,rn,no\nU2,Bob,surgeon,no\nU3,Cy,ma,maybe\n")
    with pytest.raises(ImportRejected) as info:
        import_staff_csv(session, f)
    session.rollback()  # the door rolls back what the refused import flushed
    assert [(p.line, p.column) for p in info.value.problems] == [(3, "role"), (4, "admin")]
    assert count(session, Staff) == 0


def test_staff_found_by_slack_id_or_name(session):
    import_staff_csv(session, EXAMPLES / "staff.csv")
    assert find_staff(session, "U01RN00003").name == "Maria Santos"
    assert find_staff(session, "maria santos").slack_user_id == "U01RN00003"
    assert find_staff(session, "nobody") is None
