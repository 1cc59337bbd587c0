"""Background work of the insights analytics, run by the huey worker.

- every hour (at :05): the engagement record of yesterday and today, then the alerts;
- every night (at 02:40): the engagement record of the last eight days, the engagement
  trajectories, then the alerts.

The days are UTC days widened by one on each side, so every patient's own "today" and
"yesterday" are covered whatever their time zone.
"""

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from alliance.insights import services


def _recompute_days(days_back: int) -> int:
    today = timezone.now().date()
    return services.engagement_recompute(
        start=today - timedelta(days=days_back), end=today + timedelta(days=1)
    )


@db_periodic_task(crontab(minute="5"))
def insights_hourly() -> dict:
    """Yesterday's and today's engagement record, then the alert rules."""
    written = _recompute_days(2)
    return {"days": written, **services.alerts_evaluate()}


@db_periodic_task(crontab(minute="40", hour="2"))
def insights_nightly() -> dict:
    """The last week's engagement record (late entries, moved contacts), the trajectories,
    then the alert rules."""
    written = _recompute_days(8)
    classified = services.engagement_classes_recompute()
    return {"days": written, "classified": classified, **services.alerts_evaluate()}
