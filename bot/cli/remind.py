"""`ccmbot remind`: the reminders due now, previewed (the default) or sent to Slack."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from bot.cli.common import DATE, Context, as_date, fail, pass_ctx
from bot.config import parse_clock

if TYPE_CHECKING:  # for annotations only: the command imports it when it runs
    from bot.reminders import Reminders


def moment(c: Context, today: date | None, at: str | None) -> datetime:
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


def slack_reminders(c: Context) -> Reminders:
    """Reminders that post to Slack (imports the Slack client only when called)."""
    from bot.reminders import Reminders
    from bot.slack.client import make_web_client
    from bot.slack.poster import SlackPoster

    return Reminders(c.db, c.settings, SlackPoster(make_web_client(c.settings)))


@click.command("remind")
@click.option("--dry-run", "mode", flag_value="dry", default=True, help="Print what would be sent now and to whom (the default)")
@click.option("--send", "mode", flag_value="send", help="Send what is due now and not sent yet")
@click.option("--today", "today_opt", type=DATE, default=None, help="As if today were YYYY-MM-DD")
@click.option("--at", default=None, help="As if the local time were HH:MM")
@pass_ctx
def remind_cmd(c: Context, mode: str, today_opt: datetime | None, at: str | None) -> None:
    """Reminders due now: the coordinators' digest, staff nudges, the final call, consent gaps, last month's summary."""
    from bot.reminders import Reminders

    when = moment(c, as_date(today_opt), at)
    if mode == "send":
        if not c.settings.slack_bot_token:
            fail("SLACK_BOT_TOKEN is not set; --send posts to Slack (use --dry-run to see what would go)")
        outcomes = slack_reminders(c).run(when)
        for o in outcomes:
            click.echo(f"{o.due.kind} -> {o.due.target}: {o.status}")
        if not outcomes:
            click.echo(f"nothing due at {when:%Y-%m-%d %H:%M} that was not sent already")
        return
    previews = Reminders(c.db, c.settings).preview(when)
    if not c.settings.reminder_channel:
        click.echo("note: CCMBOT_REMINDER_CHANNEL is not set, so the coordinators' digest, final call, consent gaps and month summary go nowhere; only staff nudges are listed")
    if not previews:
        click.echo(f"nothing due at {when:%Y-%m-%d %H:%M %Z}")
    names = _staff_names(c)
    for o in previews:
        where = names.get(o.due.target, o.due.target)
        if o.status != "due":
            click.echo(f"== {o.due.kind} to {where} (due {o.due.at:%H:%M}): already {o.status}")
        elif not o.posts:
            click.echo(f"== {o.due.kind} to {where} (due {o.due.at:%H:%M}): nothing to say, nothing would be posted")
        for post in o.posts:
            click.echo(f"== {o.due.kind} to {names.get(post.channel, post.channel)} (due {o.due.at:%H:%M}):")
            click.echo(post.reply.text)
            if post.file:
                click.echo(f"[attached: {post.file[0]}, {len(post.file[1].splitlines()) - 1} rows]")


def _staff_names(c: Context) -> dict[str, str]:
    """Slack user id -> "Name (U123)", so a dry run says who would get each nudge."""
    from sqlalchemy import select

    from storage.models import Staff

    with c.db.session() as s:
        return {slack_id: f"{name} ({slack_id})" for slack_id, name in s.execute(select(Staff.slack_user_id, Staff.name)) if slack_id}


COMMANDS: tuple[click.Command, ...] = (remind_cmd,)
