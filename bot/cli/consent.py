"""`ccmbot consent`: record consent granted, declined or revoked, through the same use case as chat."""

from __future__ import annotations

from datetime import datetime

import click

from bot.cli.common import DATE, CcmGroup, Context, as_date, fail, pass_ctx

PROGRAMS = click.Choice(["CCM", "PCM", "RPM", "BHI"], case_sensitive=False)


@click.group(cls=CcmGroup)
def consent() -> None:
    """Consent records (history is kept; a change adds a row)."""


def record(c: Context, patient: str, program: str, status: str, method: str | None, when: datetime | None, by: str | None) -> None:
    """Record one consent event and print what happened; a refusal or an error exits 2.

    by: the roster member recording it (--by), or None for the operator at the shell."""
    from bot.assistant import Assistant, ConsentRecorded

    result = Assistant(c.db, c.settings).record_consent(by, patient, program=program.upper(), status=status, method=method, when=as_date(when), today=c.today())
    if not isinstance(result, ConsentRecorded):
        if result.add_me is not None:  # --by names nobody on the roster: say it the shell's way
            fail(f"No staff member {by!r} on the roster; add them with `ccmbot staff add`.")
        fail(result.text)
    if result.changed:
        click.echo(f"recorded: patient {result.patient} {result.program} consent {result.status} on {result.effective_date}")
    else:
        click.echo(f"unchanged: patient {result.patient} {result.program} consent is already {result.status}")


@consent.command("record")
@click.argument("patient")
@click.option("--program", type=PROGRAMS, default="CCM", show_default=True)
@click.option("--method", type=click.Choice(["verbal", "written"]), required=True)
@click.option("--date", "when", type=DATE, default=None, help="Date consent was given (default today)")
@click.option("--by", default=None, help="Who recorded it: Slack user id or name")
@click.option("--declined", is_flag=True, help="Record that the patient declined")
@pass_ctx
def consent_record(c: Context, patient: str, program: str, method: str, when: datetime | None, by: str | None, declined: bool) -> None:
    """Record consent granted (or --declined) for a program."""
    record(c, patient, program, "declined" if declined else "granted", method, when, by)


@consent.command("revoke")
@click.argument("patient")
@click.option("--program", type=PROGRAMS, default="CCM", show_default=True)
@click.option("--date", "when", type=DATE, default=None, help="Date of revocation (default today)")
@click.option("--by", default=None, help="Who recorded it: Slack user id or name")
@pass_ctx
def consent_revoke(c: Context, patient: str, program: str, when: datetime | None, by: str | None) -> None:
    """Record that the patient revoked consent."""
    record(c, patient, program, "revoked", None, when, by)


COMMANDS: tuple[click.Command, ...] = (consent,)
