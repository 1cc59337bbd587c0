"""The patient's week (their home page) with a year of history: server time per request."""

import statistics
import time
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from bench.__main__ import Figure

REQUESTS = 200


def build_year_of_history():
    from alliance.accounts.models import Role, Service, Team
    from alliance.care import services
    from alliance.care.models import Contact, Homework
    from alliance.conftest import make_patient, make_programme, make_staff

    service = Service.objects.create(name="Bench", slug="bench")
    team = Team.objects.create(service=service, name="Bench team")
    supporter = make_staff(service, Role.SUPPORTER, "Bench Supporter", [team])
    patient = make_patient(service, team, "Bench Patient", supporter=supporter)
    specs = [(f"m{n}", True, "after_previous", None, 5) for n in range(30)]
    programme = make_programme(key="bench", modules=specs)
    start = timezone.now() - timedelta(days=365)
    episode = services.episode_start(
        patient=patient,
        programme=programme,
        care_model="blended",
        supporter=supporter,
        actor=None,
        started_at=start,
    )
    for assignment in episode.assignments.order_by("position")[:20]:
        for page in range(1, 6):
            services.page_complete(
                assignment=assignment, page_number=page, page_count=5, state="available"
            )
    Homework.objects.bulk_create(
        Homework(
            episode=episode,
            text=f"Homework of week {w}",
            source="supporter",
            done_at=start + timedelta(days=7 * w + 3),
        )
        for w in range(52)
    )
    Contact.objects.bulk_create(
        Contact(
            episode=episode,
            supporter=supporter,
            kind="phone",
            status="attended",
            scheduled_at=start + timedelta(days=7 * w),
        )
        for w in range(52)
    )
    return patient


def run() -> list[Figure]:
    patient = build_year_of_history()
    client = Client()
    client.force_login(patient.user)
    assert client.get("/my/").status_code == 200
    timings = []
    for _ in range(REQUESTS):
        began = time.perf_counter()
        client.get("/my/")
        timings.append((time.perf_counter() - began) * 1000)
    return [
        Figure("week_page_median", statistics.median(timings), "ms per request", "< 100 ms"),
        Figure(
            "week_page_p95", statistics.quantiles(timings, n=20)[18], "ms per request", "< 200 ms"
        ),
    ]
