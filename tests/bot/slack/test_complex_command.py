"""`/ccm complex` through the real Bolt app over HTTP: the same use case and rules as chat."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, PatientMonthFact
from tests.bot.slack.conftest import SlackHarness


def said(slack: SlackHarness) -> str:
    text = slack.standin.wait_for("response_url")[0].params["text"]
    slack.standin.reset()
    return str(text)


def marks(session: Session) -> list[tuple[bool, str | None]]:
    session.expire_all()
    return [(f.complex_mdm, f.complex_reason) for f in session.scalars(select(PatientMonthFact))]


def test_ccm_complex_marks_and_unmarks_through_the_use_case(slack: SlackHarness, session: Session) -> None:
    assert slack.command("complex 123 for November : new insulin regimen, 3 specialists", user="UDOC").status == 200
    assert said(slack).startswith("Marked patient 123's November as complex CCM (moderate/high MDM): new insulin regimen, 3 specialists.")
    assert marks(session) == [(True, "new insulin regimen, 3 specialists")]
    assert slack.command("complex 123 : new insulin regimen, 3 specialists", user="UDOC").status == 200
    assert said(slack).startswith("Already marked: patient 123's November is complex CCM")

    assert slack.command("complex 123 off", user="UDOC").status == 200
    assert said(slack).startswith("Patient 123's November is no longer marked complex")
    assert marks(session) == [(False, None)]
    assert slack.command("complex 123 off", user="UDOC").status == 200
    assert said(slack) == "Patient 123's November is not marked complex; nothing was changed."
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "patient_month_fact").order_by(AuditEvent.id)).all()
    assert list(actions) == ["complex.mark", "complex.unmark"]


def test_ccm_complex_refuses_a_nurse_and_asks_for_a_missing_reason(slack: SlackHarness, session: Session) -> None:
    assert slack.command("complex 123 : new insulin regimen", user="UNURSE").status == 200
    assert said(slack).startswith("Only practitioners (physician, NP, PA, CNS, CNM) and admins can mark a month complex")
    assert slack.command("complex 123 off", user="UNURSE").status == 200
    assert said(slack).startswith("Only practitioners")
    assert slack.command("complex 123 for October", user="UDOC").status == 200
    assert said(slack) == 'Say why in a few words: "complex 123 for October: new insulin regimen, 3 specialists". Nothing was changed.'
    assert slack.command("complex", user="UDOC").status == 200
    assert said(slack).startswith("Which patient? Say it like")
    assert marks(session) == []
