"""`ccmbot run`, `ccmbot serve` and `ccmbot scheduler`: the long-running Slack processes.

Slack, gunicorn and the scheduler are imported inside the commands, so `ccmbot --help` and
every other command start without them."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import click

from bot.cli.common import Context, configure_logging, fail, pass_ctx
from bot.cli.remind import slack_reminders
from bot.config import require_slack


@click.command("run")
@pass_ctx
def run_cmd(c: Context) -> None:
    """Run the Slack app over Socket Mode (SLACK_BOT_TOKEN and SLACK_APP_TOKEN; no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.scheduler import build_scheduler
    from bot.slack.app import build_app

    require_slack(c.settings, "socket")
    configure_logging()
    app = build_app(c.settings, c.db)
    build_scheduler(slack_reminders(c), c.settings).start()
    click.echo("ccmbot is connecting to Slack over Socket Mode; Ctrl-C stops it.", err=True)
    SocketModeHandler(app, c.settings.slack_app_token).start()  # type: ignore[no-untyped-call]


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="gunicorn worker processes")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Requests each worker serves at once")
@click.option("--no-scheduler", is_flag=True, help="Leave reminders to a separate `ccmbot scheduler` process")
@pass_ctx
def serve_cmd(c: Context, port: int, host: str, workers: int, threads: int, no_scheduler: bool) -> None:
    """Run the Slack app over HTTP (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET) at POST /slack/events, under gunicorn."""
    from gunicorn.app.base import BaseApplication

    from bot.observability import use_multiprocess_dir
    from bot.slack.wsgi import create_app

    require_slack(c.settings, "http")
    c.db.dispose()  # migrated once here, before the workers start; each worker opens its own pool
    # Each worker writes its metrics here; /metrics adds them up.
    given_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    metrics_dir = given_dir or tempfile.mkdtemp(prefix="ccmbot-metrics-")
    use_multiprocess_dir(metrics_dir)

    def on_exit(server: Any) -> None:
        if not given_dir:  # the folder made here goes with the server; one the operator set stays
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def worker_exit(server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)  # type: ignore[no-untyped-call]

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            # Threaded workers with a read deadline (bot.slack.worker): a slow client holds one
            # thread for at most REQUEST_DEADLINE seconds, never a whole worker.
            settings = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "bot.slack.worker.BoundedThreadWorker",
                "logger_class": "bot.slack.worker.JsonLogger",
                "accesslog": None,
                "timeout": 30,
                "keepalive": 5,
                "child_exit": worker_exit,
                "on_exit": on_exit,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            configure_logging()
            # Every worker may run the reminders: a delivery is claimed in the database first, so
            # each reminder still goes out once.
            return create_app(scheduler=not no_scheduler)

    Server().run()


@click.command("scheduler")
@pass_ctx
def scheduler_cmd(c: Context) -> None:
    """Run only the reminder scheduler (for deployments whose web workers run without it)."""
    from bot.scheduler import build_scheduler

    if not c.settings.slack_bot_token:
        fail("SLACK_BOT_TOKEN is not set; the scheduler posts reminders to Slack")
    configure_logging()
    click.echo("ccmbot scheduler running; Ctrl-C stops it.", err=True)
    build_scheduler(slack_reminders(c), c.settings, blocking=True).start()


COMMANDS: tuple[click.Command, ...] = (run_cmd, serve_cmd, scheduler_cmd)
