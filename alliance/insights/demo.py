"""Demo data of the insights analytics: a year of a service's history, engagement that
varies from patient to patient, alliance ratings with ruptures, and the alerts they raise.

Called by ``alliance demo`` after the accounts, care and measures demo data exist:

- **Former patients** (``former01@demo.example`` …, who cannot sign in): 48 finished or
  dropped-out episodes over the past year, each following one engagement pattern
  (sustained, lapsed and resumed, late disengagement, early drop-off, low throughout) with
  contacts, reviews, PHQ-9 and GAD-7 histories that fit the pattern, and WAI-SR ratings.
  They give the service report and the trajectories something realistic to show.
- **The current demo patients**: visits and finished pages spread over their episode,
  each with their own pattern, so trajectories differ; more WAI-SR ratings for those with
  four or more attended contacts, one of whom has a rupture that is not repaired.
- Then the engagement record, the trajectories and the alert rules are computed.

Seeded and idempotent: running it again adds nothing.
"""

import itertools
import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from alliance.accounts.models import Patient, Role, Service, StaffProfile, User
from alliance.care.models import Contact, ContactStatus, Episode, EpisodeStatus, Review
from alliance.content.models import Programme, ProgrammeKind
from alliance.insights import services
from alliance.insights.models import ActivitySession, EngagementEvent, EngagementEventKind
from alliance.measures.instruments import get_instrument
from alliance.measures.models import QuestionnaireRequest, Response
from alliance.measures.scoring import score_answers

DOMAIN = "demo.example"
FORMER = 48
FIRST_NAMES = [
    "Alex",
    "Bea",
    "Cal",
    "Dina",
    "Eli",
    "Fern",
    "Gus",
    "Hana",
    "Ivo",
    "Jodie",
    "Kai",
    "Lena",
    "Milo",
    "Nell",
    "Omar",
    "Pia",
    "Quinn",
    "Rhys",
    "Sana",
    "Theo",
    "Una",
    "Vik",
    "Wren",
    "Yara",
]
LAST_NAMES = [
    "Abbott",
    "Baker",
    "Chen",
    "Doyle",
    "Evans",
    "Ford",
    "Grant",
    "Hale",
    "Iqbal",
    "Jones",
    "Khan",
    "Lowe",
    "Moss",
    "Nash",
    "Owen",
    "Pratt",
]

# Active days in each week of a pattern (before noise), and how the scores move a week.
PATTERNS = {
    "sustained": ([5, 5, 4, 4, 4, 4, 3, 4, 3, 3, 3, 3], -1.2),
    "lapsed_and_resumed": ([5, 4, 3, 0, 0, 1, 3, 4, 4, 3, 3, 3], -0.8),
    "late_disengagement": ([5, 4, 4, 4, 3, 3, 2, 1, 0, 0, 0, 0], -0.5),
    "early_drop_off": ([5, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], -0.1),
    "low_throughout": ([1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0], 0.2),
}
WEIGHTS = {
    "sustained": 0.35,
    "lapsed_and_resumed": 0.15,
    "late_disengagement": 0.15,
    "early_drop_off": 0.2,
    "low_throughout": 0.15,
}
_occasion = itertools.count(1)


def populate(*, now: datetime | None = None) -> int:
    """Add the analytics demo data. Returns how many rows of history were added."""
    service = Service.objects.filter(slug="riverside").first()
    programme = (
        Programme.objects.filter(kind=ProgrammeKind.PROGRAMME).order_by("key", "-version").first()
    )
    if service is None or programme is None:
        return 0
    now = now or timezone.now()
    added = former_patients(service, programme, now)
    added += current_patients(service, now)
    patient_ids = list(
        Patient.objects.filter(service=service, user__email__endswith=f"@{DOMAIN}").values_list(
            "pk", flat=True
        )
    )
    today = now.date()
    services.engagement_recompute(
        patient_ids=patient_ids, start=today - timedelta(days=400), end=today, now=now
    )
    services.engagement_classes_recompute(now=now)
    services.alerts_evaluate(service=service, now=now)
    return added


# --- Former patients -------------------------------------------------------------------------


def supporters_by_team(service: Service) -> list[tuple[StaffProfile, int]]:
    found = []
    for profile in StaffProfile.objects.filter(service=service, role=Role.SUPPORTER).order_by(
        "user__email"
    ):
        team = profile.teams.order_by("pk").first()
        if team is not None:
            found.append((profile, team.pk))
    return found


@transaction.atomic
def former_patients(service: Service, programme: Programme, now: datetime) -> int:
    if User.objects.filter(email=f"former01@{DOMAIN}").exists():
        return 0
    supporters = supporters_by_team(service)
    if not supporters:
        return 0
    rng = random.Random(20261123)  # noqa: S311  (demo data, not security)
    added = 0
    for number in range(1, FORMER + 1):
        supporter, team_id = supporters[number % len(supporters)]
        name = f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[number % len(LAST_NAMES)]}"
        user = User.objects.create_user(f"former{number:02d}@{DOMAIN}", None, full_name=name)
        patient = Patient.objects.create(
            user=user, service=service, team_id=team_id, supporter=supporter
        )
        pattern = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        added += former_episode(patient, programme, pattern, rng, now)
    return added


def former_episode(patient, programme, pattern: str, rng: random.Random, now: datetime) -> int:
    curve, course = PATTERNS[pattern]
    referred = now - timedelta(days=rng.randint(100, 380))
    started = referred + timedelta(days=rng.randint(3, 20), hours=rng.randint(9, 16))
    weeks = {"early_drop_off": rng.randint(4, 6), "low_throughout": rng.randint(6, 10)}.get(
        pattern, 12
    )
    reason = {
        "early_drop_off": "dropped_out",
        "low_throughout": rng.choice(["dropped_out", "declined", "completed"]),
        "late_disengagement": rng.choice(["dropped_out", "completed"]),
    }.get(pattern, "completed")
    ended = started + timedelta(weeks=weeks, days=rng.randint(0, 4))
    Patient.objects.filter(pk=patient.pk).update(created_at=referred)
    episode = Episode.objects.create(
        patient=patient,
        programme=programme,
        care_model=rng.choice(["blended", "blended", "guided_self_help"]),
        supporter=patient.supporter,
        status=EpisodeStatus.ENDED,
        started_at=started,
        ended_at=ended,
        end_reason=reason,
    )
    added = engagement_history(patient, started, curve[:weeks], rng)
    added += contacts_and_scores(episode, curve, course, weeks, rng)
    return added + 1


def engagement_history(patient, start: datetime, curve: list[int], rng: random.Random) -> int:
    """Visits and finished pages: about ``curve[w]`` active days in week ``w``."""
    sessions, events = [], []
    for week, days in enumerate(curve):
        # Noise around the pattern; a week of 0 or 1 days stays low (those patients do not
        # suddenly engage).
        active = max(0, min(7, days + rng.choice([-1, 0, 0, 1] if days > 1 else [-1, 0, 0])))
        for day in sorted(rng.sample(range(7), active)):
            began = start + timedelta(weeks=week, days=day, hours=rng.randint(0, 10))
            length = timedelta(minutes=rng.randint(3, 35))
            sessions.append(
                ActivitySession(patient=patient, started_at=began, last_seen_at=began + length)
            )
            for page in range(rng.randint(0, 3)):
                events.append(
                    EngagementEvent(
                        patient=patient,
                        kind=EngagementEventKind.PAGE_COMPLETED,
                        at=began + timedelta(minutes=2 + page * 3),
                        key=f"demo:{patient.pk}:{week}:{day}:{page}",
                    )
                )
    ActivitySession.objects.bulk_create(sessions)
    EngagementEvent.objects.bulk_create(events, ignore_conflicts=True)
    return len(sessions) + len(events)


def contacts_and_scores(episode, curve, course: float, weeks: int, rng: random.Random) -> int:
    """Weekly contacts from a first one 3 to 21 days after the start; scores at each
    attended one, on a course that varies from patient to patient (some get worse)."""
    phq9 = rng.uniform(9, 21)
    gad7 = phq9 * rng.uniform(0.55, 0.85)
    course += rng.uniform(-0.6, 0.7)
    alliance = rng.uniform(3.6, 4.5)
    first = timedelta(days=rng.randint(3, 21))
    added, attended_count = 0, 0
    for week in range(weeks):
        at = episode.started_at + first + timedelta(weeks=week, hours=rng.randint(0, 6))
        if episode.ended_at and at > episode.ended_at:
            break
        engaged = curve[week] >= 2 or week == 0
        came = rng.random() < (0.9 if engaged else 0.3)
        Contact.objects.create(
            episode=episode,
            supporter=episode.supporter,
            kind=rng.choice(["phone", "video", "face_to_face"]),
            scheduled_at=at,
            status=ContactStatus.ATTENDED if came else ContactStatus.DID_NOT_ATTEND,
            minutes_spent=rng.randint(20, 50) if came else None,
        )
        added += 1
        if week % 2 == 1:
            Review.objects.create(
                episode=episode,
                reviewer=episode.supporter,
                covers_from=episode.started_at,
                opened_at=at - timedelta(days=1, minutes=20),
                completed_at=at - timedelta(days=1),
                minutes_spent=rng.randint(8, 25),
            )
            added += 1
        if not came:
            continue
        attended_count += 1
        weekly = course * week + rng.uniform(-1.5, 1.5)
        added += stored_score(episode, "phq9", round(phq9 + weekly), at, rng)
        added += stored_score(episode, "gad7", round(gad7 + weekly * 0.7), at, rng)
        if attended_count in (3, 6, 9):
            alliance += rng.uniform(-0.25, 0.2)
            added += stored_alliance(episode, alliance, at, rng)
    return added


def stored_score(episode, code: str, total: int, at: datetime, rng: random.Random) -> int:
    """A scored PHQ-9 or GAD-7 (item 9 of the PHQ-9 kept at 0)."""
    instrument = get_instrument(code)
    items = len(instrument.items)
    room = items - 1 if code == "phq9" else items
    total = max(0, min(total, 3 * room))
    answers = [0] * items
    order = list(range(room))
    rng.shuffle(order)
    for index in range(total):
        answers[order[index % room]] += 1
    return stored(episode, code, answers, at)


def stored_alliance(episode, mean: float, at: datetime, rng: random.Random) -> int:
    whole = max(1, min(4, int(mean)))
    extra = max(0, min(12, round((mean - whole) * 12)))
    answers = [whole + 1] * extra + [whole] * (12 - extra)
    rng.shuffle(answers)
    return stored(episode, "wai-sr", answers, at)


def stored(episode, code: str, answers: list[int], at: datetime) -> int:
    score = score_answers(get_instrument(code), answers)
    request = QuestionnaireRequest.objects.create(
        patient=episode.patient,
        episode=episode,
        instrument=code,
        occasion=f"demo-history:{episode.pk}:{next(_occasion)}",
        available_from=at,
        due_at=at,
        status="completed",
    )
    Response.objects.create(
        request=request,
        patient=episode.patient,
        episode=episode,
        instrument=code,
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
    return 1


# --- The current demo patients ---------------------------------------------------------------


def current_patients(service: Service, now: datetime) -> int:
    episodes = list(
        Episode.objects.filter(
            patient__service=service,
            patient__user__email__startswith="patient",
            patient__user__email__endswith=f"@{DOMAIN}",
            status=EpisodeStatus.ACTIVE,
        )
        .select_related("patient__user", "patient__supporter__user")
        .order_by("patient__user__email")
    )
    added = 0
    ruptured = False
    for index, episode in enumerate(episodes):
        rng = random.Random(f"alliance-insights-{episode.patient.user.email}")  # noqa: S311
        if not ActivitySession.objects.filter(patient=episode.patient).exists():
            pattern = list(PATTERNS)[index % len(PATTERNS)]
            weeks = max(1, (now - episode.started_at).days // 7 + 1)
            curve = PATTERNS[pattern][0][:weeks]
            added += engagement_history(episode.patient, episode.started_at, curve, rng)
        made, rupture = alliance_history(episode, rng, now, with_rupture=not ruptured)
        added += made
        ruptured = ruptured or rupture
    return added


@transaction.atomic
def alliance_history(episode, rng: random.Random, now: datetime, *, with_rupture: bool):
    """WAI-SR ratings at the attended contacts from the third on, sent and answered through
    the measures services, dated at their contacts; one patient's alliance ruptures at the
    last rating. Returns (ratings added, whether this one has the rupture)."""
    from alliance.measures import services as measures

    contacts = list(
        Contact.objects.filter(
            episode=episode, status=ContactStatus.ATTENDED, scheduled_at__lte=now
        ).order_by("scheduled_at")
    )
    existing = list(
        Response.objects.filter(episode=episode, instrument="wai-sr").order_by("submitted_at")
    )
    if len(contacts) < 4 or len(existing) > 1 or episode.patient.supporter is None:
        return 0, False
    if existing:  # the schedule's rating at the third contact, answered by the measures demo
        Response.objects.filter(pk=existing[0].pk).update(submitted_at=contacts[2].scheduled_at)
    rupture = with_rupture and len(contacts) >= 5
    mean = existing[0].mean if existing else 4.2
    added = 0
    later = contacts[3:]
    for position, contact in enumerate(later):
        last = position == len(later) - 1
        mean = max(1.5, min(5.0, mean + rng.uniform(-0.1, 0.1)))
        shown = mean - 1.1 if rupture and last else mean
        request = measures.questionnaire_send(
            patient=episode.patient, instrument="wai-sr", actor=episode.patient.supporter.user
        )
        whole = max(1, min(4, int(shown)))
        extra = max(0, min(12, round((shown - whole) * 12)))
        answers = [whole + 1] * extra + [whole] * (12 - extra)
        response, _created = measures.response_submit(
            request=request, actor=episode.patient.user, answers=answers
        )
        Response.objects.filter(pk=response.pk).update(submitted_at=contact.scheduled_at)
        added += 1
    return added, rupture
