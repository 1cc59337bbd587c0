"""Scores for reports: one million stored responses aggregated in the database, and the
scoring function itself. Scoring happens once, at submission; reports read stored scores."""

import os
import random
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone

from bench.__main__ import Figure

STORED = int(os.environ.get("BENCH_RESPONSES", 1_000_000))
SCORED = 100_000
CHUNK = 20_000


def patient_for_bench():
    from alliance.accounts.models import Service, Team
    from alliance.conftest import make_patient

    service = Service.objects.create(name="Score bench", slug="score-bench")
    team = Team.objects.create(service=service, name="Team")
    return make_patient(service, team, "Score Bench")


def store_responses(patient, count: int) -> None:
    """Insert ``count`` scored PHQ-9 responses (and their requests) in chunks."""
    from alliance.measures.instruments import get_instrument
    from alliance.measures.models import QuestionnaireRequest, Response
    from alliance.measures.scoring import score_answers

    phq9 = get_instrument("phq9")
    rng = random.Random(1)  # noqa: S311
    user = patient.user
    start = timezone.now() - timedelta(days=365)
    for offset in range(0, count, CHUNK):
        size = min(CHUNK, count - offset)
        with transaction.atomic():
            requests = QuestionnaireRequest.objects.bulk_create(
                QuestionnaireRequest(
                    patient=patient,
                    instrument="phq9",
                    occasion=f"bench:{offset + i}",
                    available_from=start,
                    due_at=start,
                    status="completed",
                )
                for i in range(size)
            )
            responses = []
            for request in requests:
                answers = [rng.randint(0, 3) for _ in range(9)]
                score = score_answers(phq9, answers)
                responses.append(
                    Response(
                        request=request,
                        patient=patient,
                        instrument="phq9",
                        submitted_at=start,
                        submitted_by=user,
                        answers=answers,
                        total=score.total,
                        severity=score.severity,
                        risk=score.risk,
                        caseness=score.caseness,
                        item_scores=list(score.item_scores),
                    )
                )
            Response.objects.bulk_create(responses)


def report_rate(patient) -> float:
    """Responses per second when a report reads stored scores (in the database): the bench
    patient's only, since other benchmarks of the run leave their own responses."""
    from alliance.measures.models import Response

    stored = Response.objects.filter(patient=patient)
    began = time.perf_counter()
    summary = stored.filter(instrument="phq9").aggregate(
        n=Count("id"),
        mean=Avg("total"),
        cases=Count("id", filter=Q(caseness=True)),
        risk=Count("id", filter=Q(risk=True)),
    )
    by_band = list(stored.values("severity").annotate(n=Count("id")))
    elapsed = time.perf_counter() - began
    assert summary["n"] == STORED and sum(b["n"] for b in by_band) == STORED
    return STORED / elapsed


def scoring_rate() -> float:
    from alliance.measures.instruments import get_instrument
    from alliance.measures.scoring import score_answers

    phq9 = get_instrument("phq9")
    rng = random.Random(2)  # noqa: S311
    forms = [[rng.randint(0, 3) for _ in range(9)] for _ in range(SCORED)]
    began = time.perf_counter()
    for answers in forms:
        score_answers(phq9, answers)
    return SCORED / (time.perf_counter() - began)


def run() -> list[Figure]:
    patient = patient_for_bench()
    store_responses(patient, STORED)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE measures_response")
    return [
        Figure(
            "report_stored_scores",
            report_rate(patient),
            "responses/s",
            f"> 1,000,000 responses/s over {STORED:,} stored responses",
        ),
        Figure("score_at_submission", scoring_rate(), "responses/s", "> 20,000 responses/s"),
    ]
