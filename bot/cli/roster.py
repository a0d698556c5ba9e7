"""`ccmbot staff` and `ccmbot patients`: the rosters of who may log and whom time is logged for."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot.cli.common import DATE, CcmGroup, Context, as_date, encoding_note, fail, pass_ctx

# --- staff -----------------------------------------------------------------


@click.group(cls=CcmGroup)
def staff() -> None:
    """The staff roster: who may log and ask."""


@staff.command("add")
@click.argument("name")
@click.option("--role", required=True, help="physician, np, pa, cns, cnm, rn, lpn, ma, pharmacist, clinical_staff, non_clinical")
@click.option("--slack-id", default=None, help="Slack user id, e.g. U0123ABCD")
@click.option("--admin", is_flag=True, help="May close months, record consent and manage the roster")
@pass_ctx
def staff_add(c: Context, name: str, role: str, slack_id: str | None, admin: bool) -> None:
    """Add or update a staff member."""
    from storage.roster import upsert_staff

    with c.db.transaction() as s:
        member, changed = upsert_staff(s, name=name, role=role, slack_user_id=slack_id, is_admin=admin)
        line = f"{'saved' if changed else 'unchanged'}: {member.name} ({member.role}{', admin' if member.is_admin else ''})"
    click.echo(line)


@staff.command("list")
@pass_ctx
def staff_list(c: Context) -> None:
    """List the staff roster."""
    from storage.roster import list_staff

    with c.db.session() as s:
        for m in list_staff(s):
            flags = ", ".join(f for f in ("admin" if m.is_admin else "", "" if m.active else "inactive") if f)
            click.echo(f"{m.slack_user_id or '-':<12} {m.name:<24} {m.role:<15} {m.track.value:<15} {flags}")


@staff.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def staff_import(c: Context, file: Path) -> None:
    """Import staff from a CSV (slack_user_id,name,role,admin). All or nothing."""
    from storage.roster import import_staff_csv

    with c.db.transaction() as s:
        rows, changed = import_staff_csv(s, file)
    encoding_note(file)
    click.echo(f"imported {file.name}: {rows} rows, {changed} changed")


# --- patients --------------------------------------------------------------


@click.group(cls=CcmGroup)
def patients() -> None:
    """The patient roster and eligibility facts."""


@patients.command("add")
@click.argument("key")
@click.option("--practitioner", default=None, help="Billing practitioner: Slack user id or name")
@click.option("--conditions", type=click.IntRange(0, 50), default=0, help="Qualifying chronic conditions")
@click.option("--care-plan", type=DATE, default=None, help="Care-plan date, YYYY-MM-DD")
@click.option("--initiating-visit", type=DATE, default=None, help="Initiating-visit date, YYYY-MM-DD")
@click.option("--programs", default="CCM", show_default=True, help="Enrolled programs, e.g. CCM;RPM")
@click.option("--label", default=None, help="Optional label (kept out of Slack unless the practice allows it)")
@pass_ctx
def patients_add(
    c: Context,
    key: str,
    practitioner: str | None,
    conditions: int,
    care_plan: datetime | None,
    initiating_visit: datetime | None,
    programs: str,
    label: str | None,
) -> None:
    """Add or update a patient."""
    from storage.roster import PatientFields, upsert_patient

    fields = PatientFields(
        key=key,
        billing_practitioner=practitioner,
        chronic_conditions=conditions,
        care_plan_date=as_date(care_plan),
        initiating_visit_date=as_date(initiating_visit),
        programs=programs,
        label=label,
    )
    today = c.today()
    with c.db.transaction() as s:
        patient, changed = upsert_patient(s, fields, actor=None, today=today)
        line = f"{'saved' if changed else 'unchanged'}: patient {patient.key} ({patient.programs})"
    click.echo(line)


@patients.command("list")
@pass_ctx
def patients_list(c: Context) -> None:
    """List patients."""
    from storage.roster import list_patients

    with c.db.session() as s:
        for p in list_patients(s):
            click.echo(
                f"{p.key:<12} {p.programs:<10} conditions={p.chronic_conditions} care_plan={p.care_plan_date or '-'} "
                f"visit={p.initiating_visit_date or '-'}{'' if p.active else ' inactive'}"
            )


@patients.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def patients_import(c: Context, file: Path) -> None:
    """Import patients from a CSV (see README). All or nothing."""
    from storage.roster import import_patients_csv

    today = c.today()
    with c.db.transaction() as s:
        rows, changed = import_patients_csv(s, file, today=today)
    encoding_note(file)
    click.echo(f"imported {file.name}: {rows} rows, {changed} changed")


@patients.command("complex")
@click.argument("key")
@click.option("--month", default=None, help="YYYY-MM (default: this month)")
@click.option("--reason", default=None, help="Why: the moderate or high complexity decision making, 3 to 200 characters")
@click.option("--off", is_flag=True, help="Unmark the month instead")
@click.option("--as", "by", required=True, help="Who marks it: Slack user id or roster name (a practitioner or an admin, as in chat)")
@pass_ctx
def patients_complex(c: Context, key: str, month: str | None, reason: str | None, off: bool, by: str) -> None:
    """Mark a patient's month as complex CCM (99487/99489), or unmark it with --off."""
    from bot.assistant import Assistant, ComplexMarked
    from bot.months import parse_month

    if off and reason is not None:
        fail("--off takes no --reason: unmarking needs none.")
    if not off and reason is None:
        fail('--reason is required to mark a month complex, e.g. --reason "new insulin regimen, 3 specialists".')
    first = parse_month(month) if month else None
    result = Assistant(c.db, c.settings).mark_complex(by, key, reason=None if off else reason, month=first, today=c.today())
    if not isinstance(result, ComplexMarked):
        if result.add_me is not None:  # --as names nobody on the roster: say it the shell's way
            fail(f"No staff member {by!r} on the roster; add them with `ccmbot staff add`.")
        fail(result.text)
    what = f"patient {result.patient} {result.month:%Y-%m}"
    click.echo(
        {
            "marked": f"marked complex: {what} ({result.reason})",
            "updated": f"reason updated: {what} ({result.reason})",
            "unchanged": f"unchanged: {what} is already complex ({result.reason})",
            "unmarked": f"unmarked: {what} is no longer complex",
            "not_marked": f"unchanged: {what} is not marked complex",
        }[result.outcome]
    )


COMMANDS: tuple[click.Command, ...] = (staff, patients)
