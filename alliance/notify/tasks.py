"""Background work of the notify app, run by the huey workers.

Every minute each worker's scheduler runs ``reminders_every_minute``: it finds what is due
and hands batches of reminder ids to ``deliver_reminders``. Running it on several workers
at once is harmless: the finder's rows are unique and a batch is claimed before sending.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from alliance.notify import services

logger = logging.getLogger("alliance.notify")


@db_task()
def deliver_reminders(*, reminder_ids: list[int]) -> dict:
    """Send one batch. Failures are retried by the engine itself, channel by channel,
    with back-off (a reminder's ``next_attempt_at``), not by re-running the task."""
    report = services.reminders_deliver(reminder_ids=reminder_ids)
    return {"claimed": report.claimed, "sent": report.sent, "retrying": report.retrying}


@db_task()
def run_reminders() -> dict:
    """Find, then dispatch: the periodic work, also queued on demand (tests, operations)."""
    return services.reminders_run()


@db_periodic_task(crontab(minute="*"))
def reminders_every_minute() -> dict:
    summary = services.reminders_run()
    if summary["queued"]:
        logger.info("Reminders: %s", summary)
    return summary
