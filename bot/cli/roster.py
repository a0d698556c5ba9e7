"""`ccmbot staff` and `ccmbot patients`: the rosters of who may log and whom time is logged for."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot.cli.common import DATE, CcmGroup, Context, as_date, pass_ctx

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
    click.echo(f"imported {file.name}: {rows} rows, {changed} changed")


COMMANDS: tuple[click.Command, ...] = (staff, patients)
