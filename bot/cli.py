"""The `ccmbot` command line. A user error exits 2 with one clear line, never a traceback."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from bot.assistant import Assistant, Message
from bot.config import ConfigError, Settings, load_settings, parse_clock, require_slack
from bot.demo import DEMO_DATABASE_URL, DEMO_SPEAKER, seed as seed_demo
from bot.parsing import parse_message
from bot.reminders import Reminders
from bot.evaluation import month_results, policy_from
from bot.patient_month import summarize
from bot.replies import summary_words
from bot.report import as_csv, as_json, describe
from bot.terminal import run_chat
from bot.months import local_today, month_bounds, parse_month
from storage.db import Database
from storage.ledger import LedgerError, find_patient, record_consent, require_active_patient
from storage.queries import panel
from storage.roster import (
    PatientFields,
    import_patients_csv,
    import_staff_csv,
    list_patients,
    list_staff,
    require_staff,
    upsert_patient,
    upsert_staff,
)


class UserError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    raise UserError(message)


@dataclass
class Context:
    """What every command needs, made on first use so --help works without a database."""

    settings_override: Settings | None = None
    _settings: Settings | None = None
    _database: Database | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = self.settings_override or load_settings()
            except ConfigError as exc:
                fail(str(exc))
        return self._settings

    @property
    def db(self) -> Database:
        if self._database is None:
            self._database = open_database(self.settings.database_url)
        return self._database

    def today(self, override: date | None = None) -> date:
        return override or local_today(self.settings.tz)


def open_database(url: str) -> Database:
    try:
        return Database(url)
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        fail(f"cannot open the database at {redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def redact(url: str) -> str:
    """Hide a password in a database URL before it is printed."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured URL"


class CcmGroup(click.Group):
    """Turns refusals from the domain into one-line user errors."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (LedgerError, ConfigError, ValueError) as exc:
            if isinstance(exc, click.ClickException):
                raise
            raise UserError(str(exc)) from None


pass_ctx = click.make_pass_decorator(Context, ensure=True)
DATE = click.DateTime(formats=["%Y-%m-%d"])


def as_date(value: Any) -> date | None:
    return value.date() if value is not None else None


@click.group(cls=CcmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """ccmbot: log care-management minutes from chat and bill them correctly."""
    ctx.ensure_object(Context)


@cli.group(cls=CcmGroup)
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(c: Context) -> None:
    """Apply migrations up to the newest schema."""
    database = c.db  # opening the database migrates it
    click.echo(f"database at {redact(database.url)} is at the newest schema")


# --- staff -----------------------------------------------------------------


@cli.group(cls=CcmGroup)
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
    with c.db.session() as s:
        member, changed = upsert_staff(s, name=name, role=role, slack_user_id=slack_id, is_admin=admin)
        s.commit()
        click.echo(f"{'saved' if changed else 'unchanged'}: {member.name} ({member.role}{', admin' if member.is_admin else ''})")


@staff.command("list")
@pass_ctx
def staff_list(c: Context) -> None:
    """List the staff roster."""
    with c.db.session() as s:
        for m in list_staff(s):
            flags = ", ".join(f for f in ("admin" if m.is_admin else "", "" if m.active else "inactive") if f)
            click.echo(f"{m.slack_user_id or '-':<12} {m.name:<24} {m.role:<15} {m.track.value:<15} {flags}")


@staff.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def staff_import(c: Context, file: Path) -> None:
    """Import staff from a CSV (slack_user_id,name,role,admin). All or nothing."""
    with c.db.session() as s:
        rows, changed = import_staff_csv(s, file)
    click.echo(f"imported {file.name}: {rows} rows, {changed} changed")


# --- patients --------------------------------------------------------------


@cli.group(cls=CcmGroup)
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
    c: Context, key: str, practitioner: str | None, conditions: int, care_plan: Any, initiating_visit: Any, programs: str, label: str | None
) -> None:
    """Add or update a patient."""
    fields = PatientFields(
        key=key,
        billing_practitioner=practitioner,
        chronic_conditions=conditions,
        care_plan_date=as_date(care_plan),
        initiating_visit_date=as_date(initiating_visit),
        programs=programs,
        label=label,
    )
    with c.db.session() as s:
        patient, changed = upsert_patient(s, fields, actor=None, today=c.today())
        s.commit()
        click.echo(f"{'saved' if changed else 'unchanged'}: patient {patient.key} ({patient.programs})")


@patients.command("list")
@pass_ctx
def patients_list(c: Context) -> None:
    """List patients."""
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
    with c.db.session() as s:
        rows, changed = import_patients_csv(s, file, today=c.today())
    click.echo(f"imported {file.name}: {rows} rows, {changed} changed")


# --- consent ---------------------------------------------------------------


@cli.group(cls=CcmGroup)
def consent() -> None:
    """Consent records (history is kept; a change adds a row)."""


def _consent(c: Context, patient_key: str, program: str, status: str, method: str | None, when: Any, by: str | None) -> None:
    today = c.today()
    with c.db.session() as s:
        patient = require_active_patient(s, patient_key)
        actor = require_staff(s, by) if by else None
        row = record_consent(
            s, patient, program=program.upper(), status=status, method=method, effective_date=as_date(when) or today, by=actor, today=today
        )
        if row is None:
            click.echo(f"unchanged: patient {patient.key} {program.upper()} consent is already {status}")
        else:
            click.echo(f"recorded: patient {patient.key} {row.program} consent {row.status} on {row.effective_date}")


@consent.command("record")
@click.argument("patient")
@click.option("--program", type=click.Choice(["CCM", "PCM", "RPM"], case_sensitive=False), default="CCM", show_default=True)
@click.option("--method", type=click.Choice(["verbal", "written"]), required=True)
@click.option("--date", "when", type=DATE, default=None, help="Date consent was given (default today)")
@click.option("--by", default=None, help="Who recorded it: Slack user id or name")
@click.option("--declined", is_flag=True, help="Record that the patient declined")
@pass_ctx
def consent_record(c: Context, patient: str, program: str, method: str, when: Any, by: str | None, declined: bool) -> None:
    """Record consent granted (or --declined) for a program."""
    _consent(c, patient, program, "declined" if declined else "granted", method, when, by)


@consent.command("revoke")
@click.argument("patient")
@click.option("--program", type=click.Choice(["CCM", "PCM", "RPM"], case_sensitive=False), default="CCM", show_default=True)
@click.option("--date", "when", type=DATE, default=None, help="Date of revocation (default today)")
@click.option("--by", default=None, help="Who recorded it: Slack user id or name")
@pass_ctx
def consent_revoke(c: Context, patient: str, program: str, when: Any, by: str | None) -> None:
    """Record that the patient revoked consent."""
    _consent(c, patient, program, "revoked", None, when, by)


# --- parse -----------------------------------------------------------------


@cli.command("parse")
@click.option("--today", "today_opt", type=DATE, default=None, help="Read dates as if today were YYYY-MM-DD")
@click.option("--jsonl", is_flag=True, help='Each input line is a JSON object {"text": ..., "today": optional}')
@click.option("--max-minutes", type=click.IntRange(1, 1440), default=None, help="Largest entry (default CCMBOT_MAX_MINUTES_PER_ENTRY)")
@pass_ctx
def parse_cmd(c: Context, today_opt: Any, jsonl: bool, max_minutes: int | None) -> None:
    """Show how the bot reads messages: one message per stdin line, one JSON object per output line."""
    default_today = c.today(as_date(today_opt))
    limit = max_minutes or c.settings.max_minutes_per_entry
    for number, line in enumerate(sys.stdin, start=1):
        line = line.rstrip("\n")
        text, today = line, default_today
        if jsonl:
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["text"]
                today = date.fromisoformat(item["today"]) if item.get("today") else default_today
            except (ValueError, KeyError, TypeError) as exc:
                fail(f"stdin line {number}: not a JSON object with \"text\" and an optional \"today\" (YYYY-MM-DD): {exc}")
        result = parse_message(text, today, max_minutes=limit)
        out = {
            "text": text,
            "entries": [e.as_dict() for e in result.entries],
            "error": None if result.error is None else {"code": result.error.code, "message": result.error.message},
        }
        click.echo(json.dumps(out))


# --- report and status -----------------------------------------------------


@cli.command("report")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to a file instead of stdout")
@pass_ctx
def report_cmd(c: Context, month: str, fmt: str, out: Path | None) -> None:
    """The month-end billing report: one row per patient and billable code (works on the open month too)."""
    first = parse_month(month)
    policy = policy_from(c.settings)
    with c.db.session() as s:
        items = month_results(s, first, policy)
    text = as_csv(items) if fmt == "csv" else json.dumps([as_json(i) for i in items], indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}: {summary_words(first, summarize(items))}", err=True)


@cli.command("status")
@click.argument("patient")
@click.option("--month", default=None, help="YYYY-MM (default: this month)")
@pass_ctx
def status_cmd(c: Context, patient: str, month: str | None) -> None:
    """One patient's month in words: minutes, codes, next threshold, consent, blockers."""
    today = c.today()
    first = parse_month(month) if month else today
    with c.db.session() as s:
        require_active_patient(s, patient)
        items = month_results(s, first, policy_from(c.settings), patient_keys=[patient])
    click.echo(describe(items[0], today))


# --- demo ---------------------------------------------------------------------


@cli.command("panel")
@click.option("--month", default=None, help="YYYY-MM (default: this month)")
@pass_ctx
def panel_cmd(c: Context, month: str | None) -> None:
    """Print the panel: every active patient with this month's minutes and consent."""
    print_panel(c.db, parse_month(month) if month else c.today())


def print_panel(database: Database, day: date) -> None:
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


# --- conversation -------------------------------------------------------------


@cli.command("chat")
@click.option("--as", "speaker", default=None, help="Who you are: a Slack user id or a name from the staff roster")
@click.option("--today", "today_opt", type=DATE, default=None, help="Talk as if today were YYYY-MM-DD")
@click.option("--demo", "use_demo", is_flag=True, help=f"Use the demo practice in {DEMO_DATABASE_URL.removeprefix('sqlite:///')} (created on first use)")
@pass_ctx
def chat(c: Context, speaker: str | None, today_opt: Any, use_demo: bool) -> None:
    """Talk to the assistant in the terminal (one message a line; works in a pipe)."""
    today = as_date(today_opt)
    if use_demo:
        database = open_database(DEMO_DATABASE_URL)
        seed_demo(database, c.today(today))
        speaker = speaker or DEMO_SPEAKER
    else:
        database = c.db
    if not speaker:
        fail('say who you are with --as, e.g. --as "Maria Santos" or --as U01RN00003 (see `ccmbot staff list`)')
    run_chat(Assistant(database, c.settings), speaker, today, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())


@cli.command("start")
@click.pass_context
def start_cmd(ctx: click.Context) -> None:
    """The main job: the Slack bot when Slack tokens are set (Socket Mode with SLACK_APP_TOKEN, else
    HTTP with SLACK_SIGNING_SECRET), otherwise the demo chat on the embedded SQLite file."""
    c = ctx.ensure_object(Context)
    settings = c.settings
    if settings.slack_bot_token and settings.slack_app_token:
        ctx.invoke(run_cmd)
    elif settings.slack_bot_token and settings.slack_signing_secret:
        ctx.invoke(serve_cmd, port=3000, host="0.0.0.0", workers=2, no_scheduler=False)
    else:
        if settings.slack_bot_token or settings.slack_app_token or settings.slack_signing_secret:
            require_slack(settings, "socket" if settings.slack_app_token else "http")  # says which one is missing
        click.echo("No Slack tokens set: starting the demo chat (see the README's Slack section to connect a workspace).", err=True)
        ctx.invoke(chat, use_demo=True)


@cli.command("demo")
@click.pass_context
def demo(ctx: click.Context) -> None:
    """The demo chat: the same as `ccmbot chat --demo`."""
    ctx.invoke(chat, use_demo=True)


@cli.command("log")
@click.argument("text")
@click.option("--as", "speaker", required=True, help="Who did the work and is logging it: Slack user id or roster name")
@click.option("--today", "today_opt", type=DATE, default=None, help="Read dates as if today were YYYY-MM-DD (back-filling)")
@click.option("--key", default=None, help="An idempotency key: the same key never logs twice (for scripts that may re-run)")
@pass_ctx
def log_cmd(c: Context, text: str, speaker: str, today_opt: Any, key: str | None) -> None:
    """Log time the way chat does: ccmbot log --as "Maria Santos" "15 min med review for patient 123"."""
    message = Message(user=speaker, text=text, today=as_date(today_opt), source="cli", source_id=f"cli:{key}" if key else None)
    reply = Assistant(c.db, c.settings).handle(message)
    if reply.kind in ("error", "refused", "unknown_user", "hint"):
        fail(reply.text)
    click.echo(reply.text)


# --- audit and backup -------------------------------------------------------------


@cli.group(cls=CcmGroup)
def audit() -> None:
    """The audit trail."""


@audit.command("export")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--patient", default=None, help="Only this patient key")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to a file instead of stdout")
@pass_ctx
def audit_export(c: Context, month: str, patient: str | None, out: Path | None) -> None:
    """Every entry, void, edit and consent change of a month: who, when, and the source (Slack permalink)."""
    from storage.audit_export import month_audit_csv

    first, last = month_bounds(parse_month(month))
    with c.db.session() as s:
        if patient is not None and find_patient(s, patient) is None:
            fail(f"patient {patient} is not on the roster")
        text = month_audit_csv(s, first, last, patient)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(text.splitlines()) - 1} rows to {out}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def backup_cmd(c: Context, destination: Path) -> None:
    """A consistent copy of the SQLite database while the bot runs (PostgreSQL: use pg_dump)."""
    from storage.backup import backup_sqlite

    if not c.db.is_sqlite:
        fail("the database is PostgreSQL; back it up with pg_dump (see the README's deployment section)")
    pages = backup_sqlite(c.db, destination)
    click.echo(f"backed up {pages} pages to {destination}")


@cli.command("health")
@pass_ctx
def health_cmd(c: Context) -> None:
    """Exit 0 when the database answers and its schema is current, 1 otherwise (a container HEALTHCHECK)."""
    from storage.db import health

    try:
        database = Database(c.settings.database_url, migrate=False)
    except Exception as exc:
        click.echo(f"unhealthy: {type(exc).__name__}", err=True)
        sys.exit(1)
    ok, detail = health(database)
    database.dispose()
    click.echo(("healthy: " if ok else "unhealthy: ") + ", ".join(f"{k} {v}" for k, v in detail.items()), err=not ok)
    sys.exit(0 if ok else 1)


# --- reminders ---------------------------------------------------------------------


def _moment(c: Context, today: date | None, at: str | None) -> datetime:
    """A local date and time in the practice's zone (default: now)."""
    now = datetime.now(c.settings.tz)
    if at is not None:
        try:
            clock = parse_clock(at)
        except ValueError as exc:
            fail(f"--at {exc}")
    else:
        clock = now.time().replace(microsecond=0)
    return datetime.combine(today or now.date(), clock, tzinfo=c.settings.tz)


def _slack_reminders(c: Context) -> Reminders:
    from bot.slack.client import make_web_client
    from bot.slack.poster import SlackPoster

    return Reminders(c.db, c.settings, SlackPoster(make_web_client(c.settings)))


@cli.command("remind")
@click.option("--dry-run", "mode", flag_value="dry", default=True, help="Print what would be sent now and to whom (the default)")
@click.option("--send", "mode", flag_value="send", help="Send what is due now and not sent yet")
@click.option("--today", "today_opt", type=DATE, default=None, help="As if today were YYYY-MM-DD")
@click.option("--at", default=None, help="As if the local time were HH:MM")
@pass_ctx
def remind_cmd(c: Context, mode: str, today_opt: Any, at: str | None) -> None:
    """Reminders due now: the coordinators' digest, staff nudges, the final call, consent gaps, last month's summary."""
    moment = _moment(c, as_date(today_opt), at)
    if mode == "send":
        if not c.settings.slack_bot_token:
            fail("SLACK_BOT_TOKEN is not set; --send posts to Slack (use --dry-run to see what would go)")
        outcomes = _slack_reminders(c).run(moment)
        for o in outcomes:
            click.echo(f"{o.due.kind} -> {o.due.target}: {o.status}")
        if not outcomes:
            click.echo(f"nothing due at {moment:%Y-%m-%d %H:%M} that was not sent already")
        return
    previews = Reminders(c.db, c.settings).preview(moment)
    if not previews:
        click.echo(f"nothing due at {moment:%Y-%m-%d %H:%M %Z}")
    for o in previews:
        where = o.due.target
        if o.status != "due":
            click.echo(f"== {o.due.kind} to {where} (due {o.due.at:%H:%M}): already {o.status}")
        elif not o.posts:
            click.echo(f"== {o.due.kind} to {where} (due {o.due.at:%H:%M}): nothing to say, nothing would be posted")
        for post in o.posts:
            click.echo(f"== {o.due.kind} to {post.channel} (due {o.due.at:%H:%M}):")
            click.echo(post.reply.text)
            if post.file:
                click.echo(f"[attached: {post.file[0]}, {len(post.file[1].splitlines()) - 1} rows]")


@cli.command("scheduler")
@pass_ctx
def scheduler_cmd(c: Context) -> None:
    """Run only the reminder scheduler (for deployments whose web workers run without it)."""
    from bot.scheduler import build_scheduler

    if not c.settings.slack_bot_token:
        fail("SLACK_BOT_TOKEN is not set; the scheduler posts reminders to Slack")
    configure_logging()
    click.echo("ccmbot scheduler running; Ctrl-C stops it.", err=True)
    build_scheduler(_slack_reminders(c), c.settings, blocking=True).start()


# --- Slack -------------------------------------------------------------------------


@cli.command("run")
@pass_ctx
def run_cmd(c: Context) -> None:
    """Run the Slack app over Socket Mode (SLACK_BOT_TOKEN and SLACK_APP_TOKEN; no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.app import build_app

    from bot.scheduler import build_scheduler

    require_slack(c.settings, "socket")
    configure_logging()
    app = build_app(c.settings, c.db)
    build_scheduler(_slack_reminders(c), c.settings).start()
    click.echo("ccmbot is connecting to Slack over Socket Mode; Ctrl-C stops it.", err=True)
    SocketModeHandler(app, c.settings.slack_app_token).start()


@cli.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="gunicorn worker processes")
@click.option("--no-scheduler", is_flag=True, help="Leave reminders to a separate `ccmbot scheduler` process")
@pass_ctx
def serve_cmd(c: Context, port: int, host: str, workers: int, no_scheduler: bool) -> None:
    """Run the Slack app over HTTP (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET) at POST /slack/events, under gunicorn."""
    from gunicorn.app.base import BaseApplication

    from bot.observability import use_multiprocess_dir

    from bot.slack.wsgi import create_app

    require_slack(c.settings, "http")
    c.db.dispose()  # migrated once here, before the workers start; each worker opens its own pool
    # Each worker writes its metrics here; /metrics adds them up.
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="ccmbot-metrics-")
    use_multiprocess_dir(metrics_dir)

    def worker_exit(server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = {"bind": f"{host}:{port}", "workers": workers, "accesslog": None, "timeout": 30, "child_exit": worker_exit}
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            configure_logging()
            # Every worker may run the reminders: a delivery is claimed in the database first, so
            # each reminder still goes out once.
            return create_app(scheduler=not no_scheduler)

    Server().run()


def configure_logging() -> None:
    from bot.observability import configure_logging as json_logs

    json_logs()


def main() -> None:
    cli(prog_name="ccmbot")


if __name__ == "__main__":
    sys.exit(main())
