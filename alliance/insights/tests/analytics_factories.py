"""Small builders for the analytics tests: stored scores, contacts, reviews, days.

Rows are made directly (the measures and care apps test their own services): a stored
score is scored by the real scoring function, so totals, means and subscales are real.
"""

import itertools
from datetime import UTC, date, datetime, timedelta

from alliance.care.models import Contact, ContactStatus, Episode, Review
from alliance.insights.models import PatientDay
from alliance.measures.instruments import get_instrument
from alliance.measures.models import QuestionnaireRequest, Response
from alliance.measures.scoring import score_answers

_occasions = itertools.count(1)
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)  # a Monday


def answers_for_total(instrument: str, total: int) -> list[int]:
    """PHQ-9 / GAD-7 answers (indices 0–3) adding up to ``total``; the PHQ-9's item 9 (risk)
    stays at 0 unless the total needs it."""
    items = len(get_instrument(instrument).items)
    room = items - 1 if instrument == "phq9" and total <= 3 * (items - 1) else items
    answers = [0] * items
    for index in range(total):
        answers[index % room] += 1
    return answers


def stored_response(episode: Episode, instrument: str, answers: list[int], at: datetime):
    definition = get_instrument(instrument)
    score = score_answers(definition, answers)
    request = QuestionnaireRequest.objects.create(
        patient=episode.patient,
        episode=episode,
        instrument=instrument,
        occasion=f"test:{next(_occasions)}",
        available_from=at,
        due_at=at,
        status="completed",
    )
    return Response.objects.create(
        request=request,
        patient=episode.patient,
        episode=episode,
        instrument=instrument,
        submitted_at=at,
        submitted_by=episode.patient.user,
        answers=answers,
        total=score.total,
        severity=score.severity or "",
        risk=score.risk,
        caseness=score.caseness,
        item_scores=list(score.item_scores),
        subscales=dict(score.subscales),
        mean=score.mean,
    )


def score(episode: Episode, instrument: str, total: int, at: datetime):
    return stored_response(episode, instrument, answers_for_total(instrument, total), at)


def wai_sr(episode: Episode, mean: float, at: datetime, *, bond: int | None = None):
    """A WAI-SR whose mean item score is about ``mean`` (1–5)."""
    whole = int(mean)
    extra = round((mean - whole) * 12)
    answers = [min(5, whole + (1 if i < extra else 0)) for i in range(12)]
    if bond is not None:  # items 3, 5, 7, 9 are the bond subscale
        for number in (3, 5, 7, 9):
            answers[number - 1] = bond
    return stored_response(episode, "wai-sr", answers, at)


def contact(episode: Episode, status: str, at: datetime, *, minutes: int | None = None):
    return Contact.objects.create(
        episode=episode,
        supporter=episode.supporter,
        kind="phone",
        scheduled_at=at,
        status=status,
        minutes_spent=minutes,
    )


def attended(episode: Episode, at: datetime, **kwargs):
    return contact(episode, ContactStatus.ATTENDED, at, **kwargs)


def review(episode: Episode, at: datetime, minutes: int):
    return Review.objects.create(
        episode=episode,
        reviewer=episode.supporter,
        covers_from=episode.started_at,
        opened_at=at - timedelta(minutes=minutes),
        completed_at=at,
        minutes_spent=minutes,
    )


def active_days(patient, days: list[date], computed_at: datetime = NOW) -> None:
    PatientDay.objects.bulk_create(
        PatientDay(
            patient=patient, date=day, active=True, sessions=1, minutes=5, computed_at=computed_at
        )
        for day in days
    )


def end(episode: Episode, at: datetime, reason: str = "completed") -> Episode:
    Episode.objects.filter(pk=episode.pk).update(status="ended", ended_at=at, end_reason=reason)
    episode.refresh_from_db()
    return episode
