"""Reminders on a clock: APScheduler cron triggers in the practice's time zone.

A trigger per reminder time wakes the reminders at that local minute (09:00 stays 09:00
across daylight-saving changes); each wake-up sends whatever is due and not yet sent, so a
catch-up run at start and a run every ten minutes (failed posts, a missed wake-up) are safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.kept import warm
from bot.reminders import Reminders

log = logging.getLogger(__name__)

RETRY_MINUTES = 10
WARM_HOUR = 5  # local: before anyone asks


def build_scheduler(reminders: Reminders, settings: Settings, *, blocking: bool = False, now: Callable[[], datetime] | None = None) -> BaseScheduler:
    clock = now or (lambda: datetime.now(UTC))

    def wake() -> None:
        try:
            for outcome in reminders.run(clock()):
                log.info("reminder %s: %s", outcome.due.key, outcome.status)
        except Exception as exc:  # a database or Slack outage now is retried at the next wake-up
            log.error("reminders: %s", type(exc).__name__)

    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=settings.tz)
    times = {settings.reminder_time(kind) for kind in settings.reminders}
    for hour, minute in sorted((at.hour, at.minute) for at in times):
        scheduler.add_job(
            wake,
            CronTrigger(hour=hour, minute=minute, timezone=settings.tz),
            id=f"reminders-{hour:02d}{minute:02d}",
            misfire_grace_time=3600,
            coalesce=True,
            max_instances=1,
        )
    scheduler.add_job(wake, IntervalTrigger(minutes=RETRY_MINUTES, timezone=settings.tz), id="reminders-retry", coalesce=True, max_instances=1)

    def keep_warm() -> None:
        try:
            count = warm(reminders.db, reminders.policy, clock().astimezone(settings.tz).date())
            log.info("kept results: %d patients evaluated", count)
        except Exception as exc:  # the first question evaluates whatever is still stale
            log.error("kept results: %s", type(exc).__name__)

    # Kept results (bot/kept.py) ready before the day's first "what will we bill": last month's
    # comparison day moves every morning, and a deploy or a fee schedule import changes them all.
    scheduler.add_job(keep_warm, CronTrigger(hour=WARM_HOUR, timezone=settings.tz), id="kept-results", misfire_grace_time=3600, coalesce=True, max_instances=1)
    scheduler.add_job(keep_warm, id="kept-results-at-start", max_instances=1)
    # Catch up at start: today's reminders that were due while the bot was down.
    scheduler.add_job(wake, id="reminders-catch-up", max_instances=1)
    return scheduler
