"""`ccmbot report`, `ccmbot status` and `ccmbot panel`: a month's billing, one patient's month, the panel."""

from __future__ import annotations

import contextlib
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli.common import DATE, Context, as_date, fail, open_private, pass_ctx
from bot.months import month_bounds, parse_month

if TYPE_CHECKING:  # for annotations only: the command imports it when it runs
    from storage.db import Database


@click.command("report")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]), default="csv", show_default=True, help="xlsx: a workbook for the biller (needs --out)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to a file instead of stdout")
@click.option("--as", "by", default=None, help="Who is asking: Slack user id or roster name (must be an admin, as in chat)")
@pass_ctx
def report_cmd(c: Context, month: str, fmt: str, out: Path | None, by: str | None) -> None:
    """The month-end billing report: one row per patient and billable code (works on the open month too).

    Without --as the operator at the shell asks; with it, the same rule as chat and Slack applies."""
    from bot.assistant import Assistant
    from bot.evaluation import policy_from, stream_month_results
    from bot.kept import kept_report
    from bot.patient_month import Tally
    from bot.replies import summary_words
    from bot.report import write_csv, write_json
    from storage.months import complex_marks

    if by is not None:
        refusal = Assistant(c.db, c.settings).may_pull_report(by)
        if refusal is not None:
            fail(refusal.text)
    first = parse_month(month)
    policy = policy_from(c.settings, db=c.db)
    if fmt == "xlsx":
        _write_workbook(c, first, policy, out)
        return
    write = write_csv if fmt == "csv" else write_json
    # The CSV of a month whose results are kept (bot.kept) is read from them; otherwise rows stream
    # out a chunk of patients at a time. Either way memory does not grow with the practice.
    with c.db.transaction() as s, open_private(out) if out is not None else contextlib.nullcontext(sys.stdout) as handle:
        summary = kept_report(s, first, policy, handle) if fmt == "csv" else None
        if summary is None:
            tally = Tally()
            write(tally.counting(stream_month_results(s, first, policy)), handle, complex_marks(s, first))
            summary = tally.summary()
    if out is not None:
        click.echo(f"wrote {out}: {summary_words(first, summary)}", err=True)


def _write_workbook(c: Context, first: date, policy: Any, out: Path | None) -> None:
    """The workbook holds the month's rows to sort them naturally and to chart them; it also
    reads last month's summary for the comparison."""
    from bot.evaluation import stream_month_results
    from bot.months import previous_month
    from bot.patient_month import Tally
    from bot.replies import summary_words
    from bot.workbook import write_workbook

    if out is None:
        fail("--format xlsx writes a file: give --out FILE.xlsx")
    last = previous_month(first)
    with c.db.session() as s:
        before = Tally()
        for _ in before.counting(stream_month_results(s, last, policy)):
            pass
        with open_private(out, binary=True) as handle:
            summary = write_workbook(stream_month_results(s, first, policy), handle, month=first, last_month=before.summary())
    click.echo(f"wrote {out}: {summary_words(first, summary)}", err=True)


@click.command("status")
@click.argument("patient")
@click.option("--month", default=None, help="YYYY-MM (default: this month)")
@click.option("--today", "today_opt", type=DATE, default=None, help="As if today were YYYY-MM-DD")
@pass_ctx
def status_cmd(c: Context, patient: str, month: str | None, today_opt: datetime | None) -> None:
    """One patient's month in words: minutes, codes, next threshold, consent, blockers; this
    month's also the current RPM device period and what its remaining days can still reach."""
    from bot.evaluation import device_statuses, month_results, policy_from
    from bot.report import describe
    from storage.months import complex_marks
    from storage.queries import keys_scope
    from storage.roster import require_active_patient

    today = c.today(as_date(today_opt))
    first = parse_month(month) if month else today
    with c.db.session() as s:
        found = require_active_patient(s, patient)
        items = month_results(s, first, policy_from(c.settings, db=s), patient_keys=[patient])
        mark = complex_marks(s, first, [found.id]).get(found.id)
        current = month_bounds(first)[0] == month_bounds(today)[0]
        devices = device_statuses(s, today, scope=keys_scope([found.key])) if current else []
    click.echo(describe(items[0], today, mark, devices[0] if devices else None))


@click.command("panel")
@click.option("--month", default=None, help="YYYY-MM (default: this month)")
@pass_ctx
def panel_cmd(c: Context, month: str | None) -> None:
    """Print the panel: every active patient with this month's minutes and consent."""
    print_panel(c.db, parse_month(month) if month else c.today())


def print_panel(database: Database, day: date) -> None:
    """The panel of day's month as a fixed-width table."""
    from storage.queries import panel

    start, end = month_bounds(day)
    with database.session() as s:
        rows = panel(s, start, end)
    click.echo(f"Panel for {start:%B %Y}: {len(rows)} active patients")
    click.echo(f"{'patient':<10} {'programs':<9} {'cond':>4} {'practitioner':<18} {'prac':>5} {'staff':>5} {'n/c':>5}  consent")
    for r in rows:
        by_track: dict[str, int] = {}
        for tracks in r.minutes.values():
            for track, m in tracks.items():
                by_track[track] = by_track.get(track, 0) + m
        consent = ", ".join(f"{p} {c.status} {c.effective_date}" for p, c in sorted(r.consents.items())) or "none on file"
        click.echo(
            f"{r.key:<10} {';'.join(r.programs):<9} {r.chronic_conditions:>4} {(r.billing_practitioner or '-')[:18]:<18} "
            f"{by_track.get('practitioner', 0):>5} {by_track.get('clinical_staff', 0):>5} {by_track.get('non_clinical', 0):>5}  {consent}"
        )


COMMANDS: tuple[click.Command, ...] = (report_cmd, status_cmd, panel_cmd)
