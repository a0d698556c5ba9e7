"""`ccmbot amounts`: official payment amounts computed from CMS's fee schedule file (PPRRVU)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import click

from bot.cli.common import CcmGroup, Context, pass_ctx

SETTING_WORDS = {"non_facility": "non-facility", "facility": "facility"}


@click.group(cls=CcmGroup)
def amounts() -> None:
    """Payment amounts from CMS's Physician Fee Schedule file, per service year.

    Without an import, the built-in national non-facility amounts are used (2026's are estimates)."""


@amounts.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--year", type=int, required=True, help="The service year the file is for, YYYY")
@click.option("--conversion-factor", "factor", required=True, help="Dollars per RVU from the year's final rule, e.g. 33.4009")
@click.option("--gpci", default=None, help="Your locality's work,pe,mp GPCIs, e.g. 1.017,1.134,0.581 (default: national, 1,1,1)")
@click.option("--setting", type=click.Choice(["non-facility", "facility"], case_sensitive=False), default="non-facility", show_default=True)
@click.option("--as", "by", default=None, help="Who imports: Slack user id or roster name (must be an admin)")
@pass_ctx
def amounts_import(c: Context, file: Path, year: int, factor: str, gpci: str | None, setting: str, by: str | None) -> None:
    """Import a year's amounts from the PPRRVU….csv in CMS's "PFS Relative Value Files" zip.

    Replaces that year's amounts of the setting; a bad file or option changes nothing."""
    from storage.fee_schedules import import_fee_schedule
    from storage.roster import require_staff

    with c.db.transaction() as s:
        staff = require_staff(s, by) if by is not None else None
        done = import_fee_schedule(s, file, year=year, conversion_factor=factor, setting=setting, gpci=gpci, by=staff)
    where = "national" if done.gpci.is_national else f"GPCI {done.gpci}"
    replaced = f", replacing {done.replaced} stored" if done.replaced else ""
    click.echo(f"imported {done.source}: {len(done.amounts)} {done.year} {SETTING_WORDS[done.setting]} amounts ({where}, conversion factor {done.conversion_factor}){replaced}")
    for code, amount in done.amounts.items():
        click.echo(f"  {code}  {amount:>8.2f}")
    for note in done.notes:
        click.echo(f"note: {note}", err=True)
    if done.setting != c.settings.fee_schedule_setting:
        click.echo(f"note: CCMBOT_FEE_SCHEDULE_SETTING is {c.settings.fee_schedule_setting}, so these {SETTING_WORDS[done.setting]} amounts are not used", err=True)
    click.echo("note: a running bot and scheduler use these amounts within a minute", err=True)
    c.warm_kept_results()  # the kept results priced with the old amounts are stale now


@amounts.command("list")
@click.option("--year", type=int, default=None, help="Only this service year, YYYY")
@pass_ctx
def amounts_list(c: Context, year: int | None) -> None:
    """What is stored: each year's amounts with their source, setting and conversion factor."""
    from storage.fee_schedules import stored_schedules

    with c.db.session() as s:
        schedules = stored_schedules(s, year)
    if not schedules:
        scope = f" for {year}" if year is not None else ""
        click.echo(
            f"No fee schedule is stored{scope}: the built-in national amounts are used (2026's are estimates). "
            "Import CMS's PPRRVU file with `ccmbot amounts import FILE --year YYYY --conversion-factor CF`."
        )
        return
    in_use = c.settings.fee_schedule_setting
    for sched in schedules:
        used = "in use" if sched.setting == in_use else f"not used: CCMBOT_FEE_SCHEDULE_SETTING is {in_use}"
        where = "national" if sched.gpci is None else f"GPCI {sched.gpci}"
        at = sched.imported_at if sched.imported_at.tzinfo else sched.imported_at.replace(tzinfo=UTC)
        who = f" by {sched.imported_by}" if sched.imported_by else ""
        click.echo(
            f"{sched.year} {SETTING_WORDS[sched.setting]} ({used}): conversion factor {sched.conversion_factor}, {where}; "
            f"from {sched.source}, imported {at.astimezone(c.settings.tz):%Y-%m-%d %H:%M}{who}"
        )
        for code, amount in sched.amounts.items():
            click.echo(f"  {code}  {amount:>8.2f}")


COMMANDS: tuple[click.Command, ...] = (amounts,)
