"""The `ccmbot` command line: the root group and `main()`; each command group lives in its own module.

    roster       staff, patients
    consent      consent record, consent revoke
    entries      log, parse
    months       report, status, panel
    chat         chat, demo, start
    remind       remind
    slack        run, serve, scheduler (Slack and the scheduler are imported only when they run)
    maintenance  db upgrade, audit export, backup, health

A user error exits 2 with one clear line, never a traceback (bot.cli.common).
"""

from __future__ import annotations

import click

from bot.cli import chat, consent, entries, maintenance, months, remind, roster, slack
from bot.cli.common import CcmGroup, Context

__all__ = ["cli", "main"]


@click.group(cls=CcmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """ccmbot: log care-management minutes from chat and bill them correctly."""
    c = ctx.ensure_object(Context)
    ctx.call_on_close(c.close)


def _register(group: click.Group) -> None:
    for module in (roster, consent, entries, months, chat, remind, slack, maintenance):
        for command in module.COMMANDS:
            group.add_command(command)


_register(cli)


def main() -> None:
    cli(prog_name="ccmbot")
