"""Helpers for the messaging tests: sending through the service, at a chosen time."""

from datetime import UTC, datetime

from alliance.messaging import selectors, services

# A Monday at 10:00 in London (UTC in winter).
MONDAY = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)


def send(patient, author, body="Hello", **extra):
    """A message in the patient's thread from ``author`` (a User or StaffProfile)."""
    author = getattr(author, "user", author)
    message, _created = services.message_send(
        thread=selectors.thread_for(patient), author=author, body=body, **extra
    )
    return message
