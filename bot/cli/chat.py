"""`ccmbot chat`, `ccmbot demo` and `ccmbot start`: the terminal conversation, and the main job that
runs the Slack bot when tokens are set and the demo chat otherwise."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from bot.cli.common import DATE, Context, as_date, fail, open_database, pass_ctx
from bot.cli.slack import run_cmd, serve_cmd
from bot.config import DEMO_DATABASE_URL, DEMO_SPEAKER, require_slack


@click.command("chat")
@click.option("--as", "speaker", default=None, help="Who you are: a Slack user id or a name from the staff roster")
@click.option("--today", "today_opt", type=DATE, default=None, help="Talk as if today were YYYY-MM-DD")
@click.option("--demo", "use_demo", is_flag=True, help=f"Use the demo practice in {DEMO_DATABASE_URL.removeprefix('sqlite:///')} (created on first use)")
@pass_ctx
def chat(c: Context, speaker: str | None, today_opt: datetime | None, use_demo: bool) -> None:
    """Talk to the assistant in the terminal (one message a line; works in a pipe)."""
    from bot.assistant import Assistant
    from bot.terminal import run_chat

    today = as_date(today_opt)
    if use_demo:
        from bot.demo import seed as seed_demo

        database = open_database(DEMO_DATABASE_URL)
        click.get_current_context().call_on_close(database.dispose)
        seed_demo(database, c.today(today))
        speaker = speaker or DEMO_SPEAKER
    else:
        database = c.db
    if not speaker:
        fail('say who you are with --as, e.g. --as "Maria Santos" or --as U01RN00003 (see `ccmbot staff list`)')
    run_chat(Assistant(database, c.settings), speaker, today, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())


@click.command("start")
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


@click.command("demo")
@click.pass_context
def demo(ctx: click.Context) -> None:
    """The demo chat: the same as `ccmbot chat --demo`."""
    ctx.invoke(chat, use_demo=True)


COMMANDS: tuple[click.Command, ...] = (chat, start_cmd, demo)
