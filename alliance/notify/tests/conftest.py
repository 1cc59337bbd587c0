"""Fixtures of the notify tests: Alice in care with her settings made at a known moment,
and a helper that runs the engine (find, dispatch, deliver) at a given instant."""

from datetime import UTC, datetime

import pytest

from alliance.notify import rules, services
from alliance.notify.selectors import settings_data_for


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Friday 20 March 2026, noon in London (GMT).
START = utc(2026, 3, 20, 12)


def run(now: datetime) -> dict:
    """One round of the engine at ``now``, delivering here (no worker)."""
    return services.reminders_run(now=now, inline=True)


def choose(patient, now=START, **changes):
    """Save changes to the patient's settings at ``now``; reminders={kind: KindChoice}."""
    current = settings_data_for(patient)
    reminders = {**current.reminders, **changes.pop("reminders", {})}
    data = current.with_changes(reminders=reminders, **changes)
    return services.reminder_settings_update(patient=patient, data=data, now=now)


def only(kind, at, days=rules.DAYS):
    """Settings with only this kind on (a dict for ``choose(reminders=...)``)."""
    reminders = {k: rules.KindChoice(on=False, days=rules.DAYS, at=None) for k in rules.KINDS}
    for k in rules.SCHEDULED_KINDS:
        reminders[k] = rules.KindChoice(on=False, days=rules.DAYS, at=at)
    reminders[kind] = rules.KindChoice(on=True, days=days, at=at)
    return reminders


@pytest.fixture
def alice_in_care(alice, episode):
    """Alice with an active episode and the default settings, made at START."""
    services.reminder_settings_ensure(patient=alice, now=START)
    return alice
