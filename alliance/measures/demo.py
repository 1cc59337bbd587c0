"""Demo data of the measures app: licences and realistic score histories.

Called by ``alliance demo`` after the care demo: every questionnaire the schedule sent for a
past, attended contact is answered along a plausible course (most patients improve, some do
not, one deteriorates); one patient answers the PHQ-9's item 9 positively, so the risk
alert and its acknowledgement can be seen. Seeded: every demo looks the same.
"""

import random

from django.utils import timezone

from alliance.accounts.models import Role, Service, StaffProfile
from alliance.care.models import Contact, ContactStatus
from alliance.measures import services
from alliance.measures.instruments import Instrument
from alliance.measures.models import QuestionnaireRequest, RequestStatus, Response

# Weekly change of the PHQ-9 total by course; GAD-7 follows at about two thirds.
COURSES = {"improving": -1.6, "slow": -0.6, "flat": 0.0, "worsening": 0.9}
RISK_DEMO_PATIENT = "patient03@demo.example"


def record_licences(service: Service) -> None:
    admin = StaffProfile.objects.filter(service=service, role=Role.ADMINISTRATOR).first()
    if admin is None:
        return
    for code in sorted(services.needs_licence()):
        services.licence_record(
            service=service, instrument=code, actor=admin.user, note="Demo licence"
        )


def answers_for(
    instrument: Instrument, total: int, rng: random.Random, *, spare: set[str] = frozenset()
) -> list[int]:
    """Answers (as ticked) whose keyed scores add up to about ``total``; items in ``spare``
    (e.g. the PHQ-9's item 9) score their lowest."""
    items = [i for i in instrument.items if i.type != "text"]
    low = [min(o.score for o in i.options) for i in items]
    high = [max(o.score for o in i.options) for i in items]
    scores = list(low)
    room = [k for k, i in enumerate(items) if i.key not in spare]
    target = max(sum(low), min(total, sum(high[k] for k in room) + sum(low)))
    while sum(scores) < target and room:
        k = rng.choice(room)
        if scores[k] < high[k]:
            scores[k] += 1
        else:
            room.remove(k)
    return [
        next(o.value for o in i.options if o.score == s) for i, s in zip(items, scores, strict=True)
    ]


def planned_total(
    instrument: str, start: float, course: float, week: int, rng: random.Random
) -> int:
    scale = {"phq9": 1.0, "gad7": 0.7, "wsas": 1.3, "epds": 0.9}.get(instrument, 1.0)
    value = (start + course * week) * scale + rng.uniform(-1.5, 1.5)
    return max(0, round(value))


def populate(*, now=None) -> int:
    """Answer the demo's past questionnaires. Returns how many responses were stored."""
    now = now or timezone.now()
    rng = random.Random(7)  # noqa: S311  (demo data)
    open_requests = (
        QuestionnaireRequest.objects.filter(
            patient__user__email__endswith="@demo.example",
            status=RequestStatus.PENDING,
            available_from__lte=now,
        )
        .select_related("patient__user", "patient__service", "episode")
        .order_by("patient_id", "due_at")
    )
    attended = set(
        Contact.objects.filter(status=ContactStatus.ATTENDED).values_list("pk", flat=True)
    )
    courses: dict[int, tuple[float, float]] = {}
    stored = 0
    for request in open_requests:
        if not answerable(request, attended, now):
            continue
        patient = request.patient
        if patient.pk not in courses:
            courses[patient.pk] = (rng.uniform(11, 20), rng.choice(list(COURSES.values())))
        start, course = courses[patient.pk]
        stored += answer(request, start, course, rng)
    return stored


def answerable(request: QuestionnaireRequest, attended: set[int], now) -> bool:
    if request.occasion.startswith("contact:"):
        return int(request.occasion.split(":")[1]) in attended
    return request.due_at <= now or request.occasion in ("start", "middle", "contact_no:3")


def answer(request: QuestionnaireRequest, start: float, course: float, rng: random.Random) -> int:
    patient = request.patient
    instrument = services.instrument_for(patient.service, request.instrument)
    if not instrument.is_scored:
        return 0
    week = max(0, (request.due_at - request.episode.started_at).days // 7) if request.episode else 0
    if instrument.code == "wai-sr":
        total = rng.randint(40, 56)
    else:
        total = planned_total(instrument.code, start, course, week, rng)
    risky = (
        patient.user.email == RISK_DEMO_PATIENT
        and instrument.code == "phq9"
        and not Response.objects.filter(patient=patient, risk=True).exists()
    )
    spare = set() if risky else {r.item for r in instrument.risk}
    answers = answers_for(instrument, total, rng, spare=spare)
    if risky:
        answers[-1] = 1  # "several days": a positive risk item, for the alert demo
    difficulty = rng.randint(0, 2) if instrument.difficulty else None
    services.response_submit(
        request=request, actor=patient.user, answers=answers, difficulty=difficulty
    )
    return 1
