"""Demo data for the support dashboards: what a supporter's morning needs to show.

Called by ``alliance demo`` after the accounts, care, measures, check-in and messaging demo
data exist. The other apps' demos make the caseload (episodes, contacts, reviews, scores,
check-ins, messages, a request for a different supporter); this adds what the pre-session
brief reads and nobody else writes:

- exercise entries since each patient's last contact (thought records with a balanced
  thought, activity plans), written through the exercises service as the patient;
- one alliance rupture: for the first of ``supporter@demo.example``'s patients who has
  rated the alliance, a new WAI-SR that fell well below the one before.

A patient who has the demo's entries is left alone, and the rupture is added only while
the patient has fewer than two WAI-SR ratings, so running it again adds nothing. Seeded:
every demo looks the same.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from alliance.accounts.models import Patient
from alliance.care.models import Contact, ContactStatus, Episode, EpisodeStatus
from alliance.checkins import services as exercise_services
from alliance.checkins.models import ExerciseEntry, ExerciseEntryVersion
from alliance.measures import services as measure_services
from alliance.measures.models import Response

DEMO_DOMAIN = "@demo.example"
RUPTURE_SUPPORTER = "supporter@demo.example"
KEY_PREFIX = "demo-brief-"

# Written for the demo: ordinary situations, the thought that came, a kinder second look.
THOUGHT_RECORDS = [
    {
        "situation": "My manager asked to see me at the end of the day",
        "emotions": [{"emotion": "Anxious", "intensity": 80}],
        "automatic_thought": "I have made a mess of something and I'm going to lose my job",
        "thought_belief": 75,
        "evidence_for": "I rushed the last report",
        "evidence_against": "She said last week my work on the project was good. She often "
        "has these chats about planning.",
        "balanced_thought": "She might want to plan the next project. If there is a problem "
        "I can fix it; one rushed report does not make me bad at my job.",
    },
    {
        "situation": "A friend didn't answer my message all weekend",
        "emotions": [{"emotion": "Low", "intensity": 60}, {"emotion": "Lonely", "intensity": 50}],
        "automatic_thought": "Nobody really wants me around",
        "thought_belief": 70,
        "evidence_against": "She asked me for coffee two weeks ago. She said she was away "
        "with her family this weekend.",
        "balanced_thought": "She is busy with her family. I can ask her when she is free.",
    },
    {
        "situation": "The baby would not settle and I snapped at my partner",
        "emotions": [{"emotion": "Guilty", "intensity": 85}],
        "automatic_thought": "I'm a terrible parent and partner",
        "thought_belief": 80,
        "evidence_against": "I was exhausted after three bad nights. I apologised and we "
        "talked. Most days I am patient.",
        "balanced_thought": "I'm very tired and doing a hard job. Snapping once doesn't "
        "undo all the care I give.",
    },
    {
        "situation": "Sitting at home on Sunday afternoon with nothing planned",
        "emotions": [{"emotion": "Empty", "intensity": 65}],
        "automatic_thought": "There is no point doing anything, I won't enjoy it",
        "thought_belief": 60,
        "evidence_against": "Last Sunday I went for a walk and felt a bit better after.",
        "balanced_thought": "I may not enjoy it much at first, but doing something small "
        "usually lifts my mood a little.",
    },
]
ACTIVITIES = [
    "Walk to the park after breakfast",
    "Phone my sister",
    "Cook a proper meal with fresh vegetables",
    "Twenty minutes of gardening",
    "Swim at the leisure centre",
]


def last_attended(episode: Episode):
    contact = (
        Contact.objects.filter(episode=episode, status=ContactStatus.ATTENDED)
        .order_by("-scheduled_at")
        .first()
    )
    return contact.scheduled_at if contact else episode.started_at


def backdate(entry: ExerciseEntry, at) -> None:
    """Entries are timed by the database; the demo places them in the past."""
    ExerciseEntry.objects.filter(pk=entry.pk).update(created_at=at, updated_at=at)
    ExerciseEntryVersion.objects.filter(entry=entry).update(saved_at=at)


def add_entries(patient: Patient, episode: Episode, rng: random.Random, now) -> int:
    """One to three entries since the last contact (or within the last week); none for a
    patient who has the demo's entries already."""
    if ExerciseEntry.objects.filter(patient=patient, client_key__startswith=KEY_PREFIX).exists():
        return 0
    since = max(last_attended(episode), now - timedelta(days=7))
    hours = max(int((now - since).total_seconds() // 3600) - 1, 1)
    made = 0
    number = int("".join(c for c in patient.user.email if c.isdigit()) or 0)
    for index in range(rng.randint(1, 3)):
        if index == 0 or rng.random() < 0.5:
            kind = "thought_record"
            data = dict(THOUGHT_RECORDS[(number + index) % len(THOUGHT_RECORDS)])
        else:
            kind = "activity_plan"
            planned = now - timedelta(hours=rng.randint(1, hours))
            data = {
                "activity": ACTIVITIES[(number + index) % len(ACTIVITIES)],
                "planned_for": planned.isoformat(),
                "done": rng.random() < 0.7,
                "pleasure": rng.randint(3, 8),
                "mastery": rng.randint(3, 8),
            }
        entry, created = exercise_services.entry_create(
            patient=patient,
            kind=kind,
            data=data,
            actor=patient.user,
            client_key=f"{KEY_PREFIX}{patient.pk}-{index}",
        )
        if created:
            backdate(entry, now - timedelta(hours=rng.randint(1, hours)))
            made += 1
    return made


def add_rupture(patients: list[Patient]) -> int:
    """A WAI-SR well below the one before, for the first patient of the demo supporter who
    has rated the alliance once (or, if nobody has, for their first patient: two ratings)."""
    mine = [p for p in patients if p.supporter and p.supporter.user.email == RUPTURE_SUPPORTER]
    ratings = {p.pk: Response.objects.filter(patient=p, instrument="wai-sr").count() for p in mine}
    if any(n >= 2 for n in ratings.values()):
        return 0  # a second rating exists already: the demo has (or had) its rupture
    patient = next((p for p in mine if ratings[p.pk] == 1), mine[0] if mine else None)
    if patient is None:
        return 0
    made = 0
    if ratings[patient.pk] == 0:
        made += rate_alliance(patient, value=5)
    before = Response.objects.filter(patient=patient, instrument="wai-sr").get()
    # Well past the rupture threshold (a fall of about 0.7 in the mean by default).
    return made + rate_alliance(patient, value=max(1, round(before.mean or 5) - 2))


def rate_alliance(patient: Patient, *, value: int) -> int:
    """The patient answers a WAI-SR sent by their supporter: every item ``value`` (1–5)."""
    request = measure_services.questionnaire_send(
        patient=patient, instrument="wai-sr", actor=patient.supporter.user
    )
    measure_services.response_submit(request=request, actor=patient.user, answers=[value] * 12)
    return 1


@transaction.atomic
def populate(*, now=None) -> int:
    """Add the brief's demo data. Returns how many entries and ratings were added."""
    now = now or timezone.now()
    rng = random.Random(20261125)  # noqa: S311  (demo data, not security)
    episodes = (
        Episode.objects.filter(
            status=EpisodeStatus.ACTIVE, patient__user__email__endswith=DEMO_DOMAIN
        )
        .select_related("patient__user", "patient__supporter__user", "patient__service")
        .order_by("patient__user__email")
    )
    added = 0
    patients = []
    for episode in episodes:
        patients.append(episode.patient)
        added += add_entries(episode.patient, episode, rng, now)
    return added + add_rupture(patients)
