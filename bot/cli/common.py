"""What every command shares: the per-invocation Context, one-line user errors, the group class
that turns domain refusals into them, and small option helpers.

A user error exits 2 with one clear line, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, NoReturn, TextIO, overload

import click

from bot.config import ConfigError, Settings, load_settings
from bot.months import local_today
from storage.errors import LedgerError

if TYPE_CHECKING:  # for annotations only: the command imports it when it runs
    from storage.db import Database


class UserError(click.ClickException):
    """A mistake the user can fix: `error: <message>` on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    """Stop the command with one line on stderr and exit code 2."""
    raise UserError(message)


@dataclass
class Context:
    """What every command needs, made on first use so --help works without a database.

    One Context belongs to one invocation (click makes it on the root context), so nothing read
    from the environment outlives the command: a second invocation in the same process reads
    the settings again and opens its own database."""

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

    def warm_kept_results(self) -> None:
        """Re-evaluate the kept billing results a change made stale (bot/kept.py: this month, last
        month and its same day), so the first question or report after an upgrade or an import
        of amounts does not wait for the whole practice."""
        import time

        from bot.evaluation import policy_from
        from bot.kept import warm

        started = time.perf_counter()
        count = warm(self.db, policy_from(self.settings, db=self.db), self.today())
        if count:
            click.echo(f"kept billing results: {count} patient-months re-evaluated in {time.perf_counter() - started:.1f} s", err=True)

    def close(self) -> None:
        """Release the database's connections when the invocation ends."""
        if self._database is not None:
            self._database.dispose()
            self._database = None


@overload
def open_private(path: Path) -> TextIO: ...
@overload
def open_private(path: Path, *, binary: Literal[True]) -> BinaryIO: ...
def open_private(path: Path, *, binary: bool = False) -> TextIO | BinaryIO:
    """Open a file for writing that only its owner can read (0600), like the database and its
    backups: an export holds PHI. An existing file is truncated and narrowed to 0600 too."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or type(exc).__name__}")
    os.fchmod(fd, 0o600)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def open_database(url: str) -> Database:
    """Open (and migrate) the database at url, or stop with one line that hides any password."""
    from storage.db import Database

    try:
        return Database(url)
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        fail(f"cannot open the database at {redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def encoding_note(file: Path) -> None:
    """Say so when an imported CSV was read as Windows-1252 rather than UTF-8."""
    from storage.spreadsheet import read_csv_text

    note = read_csv_text(file)[1]
    if note:
        click.echo(f"note: {note}", err=True)


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
        except OSError as exc:
            if exc.filename is None:  # not about a file the user named: a real fault, shown whole
                raise
            raise UserError(f"cannot use {exc.filename}: {exc.strerror or type(exc).__name__}") from None

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """Click's usage errors (an unknown option, a missing argument, a bad value) in one line,
        exit 2, like every other user error: `error: ccmbot report: No such option '--bogus'`."""
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `ccmbot` alone, or a group without a command
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
            raise SystemExit(2) from None
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "ccmbot"
            hint = f" (see `{where} --help`)"
            message = " ".join(exc.format_message().split())  # click wraps choice lists over lines
            click.echo(f"error: {where}: {message}{hint}", err=True)
            raise SystemExit(2) from None
        except click.ClickException as exc:
            exc.show()
            raise SystemExit(exc.exit_code) from None
        except click.Abort:
            click.echo("Aborted.", err=True)
            raise SystemExit(1) from None


pass_ctx = click.make_pass_decorator(Context, ensure=True)
class IsoDate(click.ParamType):  # type: ignore[type-arg]
    """A day written YYYY-MM-DD (what help shows, instead of strftime's %Y-%m-%d)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.combine(date.fromisoformat(str(value).strip()), datetime.min.time())
        except ValueError:
            self.fail(f"{value!r} is not a date; write it YYYY-MM-DD, e.g. 2026-11-03", param, ctx)


DATE = IsoDate()


def as_date(value: datetime | None) -> date | None:
    """A DATE option's value as a date (None stays None)."""
    return value.date() if value is not None else None


def configure_logging() -> None:
    """JSON log lines for the long-running commands (run, serve, scheduler)."""
    from bot.observability import configure_logging as json_logs

    json_logs()
