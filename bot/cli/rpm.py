"""`ccmbot rpm`: RPM episodes (start, stop) through the same use cases as chat, and device readings
imported from a vendor's export (all or nothing)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.common import DATE, CcmGroup, Context, as_date, encoding_note, fail, pass_ctx

if TYPE_CHECKING:  # for annotations only: the commands import them when they run
    from bot.assistant import RpmChanged
    from bot.replies import Reply

PROBLEMS_SHOWN = 50  # an import's bad rows listed one a line, then how many more


@click.group(cls=CcmGroup)
def rpm() -> None:
    """RPM device codes: episodes of monitoring (99453) and the days devices sent data (99454, 99445)."""


def _done(result: RpmChanged | Reply, by: str | None) -> RpmChanged:
    from bot.assistant import RpmChanged

    if isinstance(result, RpmChanged):
        return result
    if result.add_me is not None:  # --as names nobody on the roster: say it the shell's way
        fail(f"No staff member {by!r} on the roster; add them with `ccmbot staff add`.")
    fail(result.text)


def _echo(done: RpmChanged) -> None:
    what = f"patient {done.patient} RPM episode from {done.start}" + (f" to {done.end}" if done.end else "") + (f" ({done.device})" if done.device else "")
    if done.ended is not None:
        click.echo(f"ended: patient {done.patient} RPM episode from {done.ended[0]} to {done.ended[1]}")
    click.echo(f"{'unchanged' if not done.changed else done.outcome}: {what}")


@rpm.command("start")
@click.argument("key")
@click.option("--date", "when", type=DATE, default=None, help="The day of set-up and patient education (default today)")
@click.option("--device", default=None, help="The device, e.g. \"BP cuff\" (at most 120 characters)")
@click.option("--as", "by", required=True, help="Who did the set-up: Slack user id or roster name (clinical staff or a practitioner, as in chat)")
@click.option("--today", "today_opt", type=DATE, default=None, help="As if today were YYYY-MM-DD")
@pass_ctx
def rpm_start(c: Context, key: str, when: datetime | None, device: str | None, by: str, today_opt: datetime | None) -> None:
    """Start an RPM episode (a running one ends the day before). Device periods run 30 days from the start."""
    from bot.assistant import Assistant

    today = c.today(as_date(today_opt))
    _echo(_done(Assistant(c.db, c.settings).start_rpm(by, key, when=as_date(when), device=device, today=today), by))


@rpm.command("stop")
@click.argument("key")
@click.option("--date", "when", type=DATE, default=None, help="The last day of monitoring (default today)")
@click.option("--as", "by", default=None, help="Who stops it: Slack user id or roster name (clinical staff or a practitioner, as in chat)")
@click.option("--today", "today_opt", type=DATE, default=None, help="As if today were YYYY-MM-DD")
@pass_ctx
def rpm_stop(c: Context, key: str, when: datetime | None, by: str | None, today_opt: datetime | None) -> None:
    """End the running RPM episode: readings after its last day do not count."""
    from bot.assistant import Assistant

    today = c.today(as_date(today_opt))
    _echo(_done(Assistant(c.db, c.settings).stop_rpm(by, key, when=as_date(when), today=today), by))


@rpm.group("readings", cls=CcmGroup)
def readings() -> None:
    """Device readings from a vendor's export."""


@readings.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--today", "today_opt", type=DATE, default=None, help="As if today were YYYY-MM-DD")
@pass_ctx
def readings_import(c: Context, file: Path, today_opt: datetime | None) -> None:
    """Import readings from a CSV with patient_key and taken_at (a date, or an ISO 8601 timestamp:
    local time without an offset, converted to the practice's date with one), optionally device_id;
    other columns are ignored. All or nothing: every bad row is listed and nothing is written.
    Importing the same file again changes nothing."""
    from storage.roster import ImportRejected
    from storage.rpm import import_readings_csv

    today = c.today(as_date(today_opt))
    try:
        with c.db.transaction() as s:
            result = import_readings_csv(s, file, tz=c.settings.tz, today=today)
    except ImportRejected as exc:
        for problem in exc.problems[:PROBLEMS_SHOWN]:
            click.echo(f"error: {problem}", err=True)
        if len(exc.problems) > PROBLEMS_SHOWN:
            click.echo(f"error: …and {len(exc.problems) - PROBLEMS_SHOWN} more", err=True)
        fail(f"{len(exc.problems)} problem(s) in {file.name}; nothing was imported.")
    encoding_note(file)
    click.echo(f"imported {file.name}: {result.rows} rows, {result.days} patient-days with data, {result.new} new (patient, day, device) rows")


COMMANDS: tuple[click.Command, ...] = (rpm,)
