"""`ccmbot log` and `ccmbot parse`: log time the way chat does, and show how a message is read."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

import click

from bot.cli.common import DATE, Context, as_date, fail, pass_ctx


@click.command("log")
@click.argument("text")
@click.option("--as", "speaker", required=True, help="Who did the work and is logging it: Slack user id or roster name")
@click.option("--today", "today_opt", type=DATE, default=None, help="Read dates as if today were YYYY-MM-DD (back-filling)")
@click.option("--key", default=None, help="An idempotency key: the same key never logs twice (for scripts that may re-run)")
@pass_ctx
def log_cmd(c: Context, text: str, speaker: str, today_opt: datetime | None, key: str | None) -> None:
    """Log time the way chat does: ccmbot log --as "Maria Santos" "15 min med review for patient 123"."""
    from bot.assistant import Assistant, Message

    message = Message(user=speaker, text=text, today=as_date(today_opt), source="cli", source_id=f"cli:{key}" if key else None)
    from bot.replies import ReplyKind

    reply = Assistant(c.db, c.settings).handle(message)
    if reply.kind is ReplyKind.UNKNOWN_USER and "roster yet" in reply.text:
        # Chat's hint ("add you with --slack-id ...") is about a Slack user; here --as named nobody.
        fail(f"--as {speaker!r} is not on the staff roster; give a name or Slack user id from `ccmbot staff list`, or add them with `ccmbot staff add`")
    if reply.kind.is_refusal:
        fail(reply.text)
    click.echo(reply.text)


@click.command("parse")
@click.option("--today", "today_opt", type=DATE, default=None, help="Read dates as if today were YYYY-MM-DD")
@click.option("--jsonl", is_flag=True, help='Each input line is a JSON object {"text": ..., "today": optional}')
@click.option("--max-minutes", type=click.IntRange(1, 1440), default=None, help="Largest entry (default CCMBOT_MAX_MINUTES_PER_ENTRY)")
@pass_ctx
def parse_cmd(c: Context, today_opt: datetime | None, jsonl: bool, max_minutes: int | None) -> None:
    """Show how the bot reads messages: one message per stdin line, one JSON object per output line."""
    from bot.parsing import parse_message

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
                fail(f'stdin line {number}: not a JSON object with "text" and an optional "today" (YYYY-MM-DD): {exc}')
        result = parse_message(text, today, max_minutes=limit)
        out = {
            "text": text,
            "entries": [e.as_dict() for e in result.entries],
            "error": None if result.error is None else {"code": result.error.code, "message": result.error.message},
        }
        click.echo(json.dumps(out))


COMMANDS: tuple[click.Command, ...] = (log_cmd, parse_cmd)
