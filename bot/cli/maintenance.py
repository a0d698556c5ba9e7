"""`ccmbot db upgrade`, `ccmbot audit export`, `ccmbot backup` and `ccmbot health`: keeping the
database current, exported, copied and checked."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.common import CcmGroup, Context, fail, open_private, pass_ctx, redact
from bot.months import month_bounds, parse_month


@click.group(cls=CcmGroup)
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.option("--warm/--no-warm", default=True, show_default=True, help="Re-evaluate the stale kept billing results after migrating")
@pass_ctx
def db_upgrade(c: Context, warm: bool) -> None:
    """Apply migrations up to the newest schema, then bring the kept billing results up to date
    (an upgrade that changes the billing code makes them stale)."""
    database = c.db  # opening the database migrates it
    click.echo(f"database at {redact(database.url)} is at the newest schema")
    if warm:
        c.warm_kept_results()


@click.group(cls=CcmGroup)
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
    from storage.roster import find_patient

    first, last = month_bounds(parse_month(month))
    with c.db.session() as s:
        if patient is not None and find_patient(s, patient) is None:
            fail(f"patient {patient} is not on the roster")
        text = month_audit_csv(s, first, last, patient)
    if out:
        with open_private(out) as handle:
            handle.write(text)
        click.echo(f"wrote {len(text.splitlines()) - 1} rows to {out}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def backup_cmd(c: Context, destination: Path) -> None:
    """A consistent copy of the SQLite database while the bot runs (PostgreSQL: use pg_dump)."""
    from storage.backup import backup_sqlite

    if not c.db.is_sqlite:
        fail("the database is PostgreSQL; back it up with pg_dump (see the README's deployment section)")
    pages = backup_sqlite(c.db, destination)
    click.echo(f"backed up {pages} pages to {destination}")


@click.command("health")
@pass_ctx
def health_cmd(c: Context) -> None:
    """Exit 0 when the database answers and its schema is current, 1 otherwise (a container HEALTHCHECK)."""
    from sqlalchemy.engine import make_url

    from storage.db import Database, health

    url = make_url(c.settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" and not Path(url.database).exists():
        click.echo(f"unhealthy: no database file at {url.database}", err=True)  # and none is created by asking
        sys.exit(1)
    try:
        database = Database(c.settings.database_url, migrate=False)
    except Exception as exc:
        click.echo(f"unhealthy: {type(exc).__name__}", err=True)
        sys.exit(1)
    ok, detail = health(database)
    database.dispose()
    click.echo(("healthy: " if ok else "unhealthy: ") + ", ".join(f"{k} {v}" for k, v in detail.items()), err=not ok)
    sys.exit(0 if ok else 1)


COMMANDS: tuple[click.Command, ...] = (db, audit, backup_cmd, health_cmd)
