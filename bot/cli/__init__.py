"""The `ccmbot` command line: the root group and `main()`; each command group lives in its own module.

    roster       staff, patients
    consent      consent record, consent revoke
    entries      log, parse
    months       report, status, panel
    chat         chat, demo, start
    remind       remind
    slack        run, serve, scheduler (Slack and the scheduler are imported only when they run)
    maintenance  db upgrade, audit export, backup, health
    amounts      amounts import, amounts list (fee schedules from CMS's PPRRVU file)
    rpm          rpm start, rpm stop, rpm readings import (RPM device codes)

A user error exits 2 with one clear line, never a traceback (bot.cli.common).
"""

from __future__ import annotations

import click

from bot.cli import amounts, chat, consent, entries, maintenance, months, remind, roster, rpm, slack
from bot.cli.common import CcmGroup, Context

__all__ = ["cli", "main"]


@click.group(cls=CcmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ccmbot", prog_name="ccmbot", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """ccmbot: log care-management minutes from chat and bill them correctly."""
    c = ctx.ensure_object(Context)
    ctx.call_on_close(c.close)


def _register(group: click.Group) -> None:
    for module in (roster, consent, rpm, entries, months, amounts, chat, remind, slack, maintenance):
        for command in module.COMMANDS:
            group.add_command(command)


_register(cli)


def main() -> None:
    result = cli.main(prog_name="ccmbot")
    if isinstance(result, int) and result:  # click returns an exit code (e.g. from ctx.exit) without standalone mode
        raise SystemExit(result)
