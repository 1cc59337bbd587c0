"""Demo data of the care app: programmes loaded, patients enrolled with realistic progress,
the supporters' past reviews and the notes of past contacts.

Called by ``alliance demo``. Only patients with no episode yet are enrolled, only episodes
with no review yet get reviews, and only contacts with no recorded outcome get notes, so
running it again changes nothing. The randomness is seeded: every demo looks the same.
"""

import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alliance.accounts.models import Patient, Service
from alliance.care import reviews as review_rules
from alliance.care import selectors, services
from alliance.care.models import (
    Contact,
    ContactStatus,
    Episode,
    EpisodeStatus,
    FeedbackDelivery,
    Review,
    ReviewSchedule,
)
from alliance.care.plans import ModuleState
from alliance.content.models import Module, Programme, ProgrammeKind
from alliance.content.services import content_load

DEMO_PROGRAMMES = ["blended-depression", "postpartum-mood"]
# Every fifth patient is still waiting for their first contact: no episode yet.
WAITING_EVERY = 5


def newest(key: str) -> Programme | None:
    return Programme.objects.filter(key=key).order_by("-version").first()


def demo_number(patient: Patient) -> int:
    """patient07@demo.example -> 7."""
    digits = "".join(c for c in patient.user.email.split("@")[0] if c.isdigit())
    return int(digits or 0)


def populate(*, now=None) -> int:
    """Load the programmes and enrol the demo patients. Returns how many were enrolled."""
    content_load(directory=settings.BASE_DIR / "programs")
    programmes = [p for p in (newest(k) for k in DEMO_PROGRAMMES) if p is not None]
    if not programmes:
        return 0
    now = now or timezone.now()
    rng = random.Random(20261122)  # noqa: S311  (demo data, not security)
    patients = (
        Patient.objects.filter(episodes__isnull=True, user__email__endswith="@demo.example")
        .select_related("supporter__user")
        .order_by("user__email")
    )
    enrolled = 0
    for patient in patients:
        index = demo_number(patient)
        if index % WAITING_EVERY == 0 or patient.supporter is None:
            continue
        enrol(patient, programmes[index % len(programmes)], rng, now)
        enrolled += 1
    add_review_schedules()
    add_reviews(random.Random(20261123), now)  # noqa: S311  (demo data)
    add_contact_notes(random.Random(20261124), now)  # noqa: S311  (demo data)
    return enrolled


def enrol(patient: Patient, programme: Programme, rng: random.Random, now) -> Episode:
    started_at = now - timedelta(days=rng.randint(3, 60))
    care_model = "blended" if programme.key == "blended-depression" else "guided_self_help"
    episode = services.episode_start(
        patient=patient,
        programme=programme,
        care_model=care_model,
        supporter=patient.supporter,
        actor=None,
        started_at=started_at,
    )
    work_through(episode, rng, now)
    add_contacts(episode, rng, now)
    if rng.random() < 0.25:
        add_an_addon(episode, rng)
    return episode


def work_through(episode: Episode, rng: random.Random, now) -> None:
    """Finish open modules one by one, as an engaged but human patient would."""
    diligence = rng.choice([0.3, 0.6, 0.9, 1.0])
    for _ in range(20):
        rows = selectors.plan_rows(episode, now=now)
        row = next((r for r in rows if r.state.state == ModuleState.AVAILABLE), None)
        if row is None or row.page_count == 0:
            return
        if rng.random() > diligence:
            pages = rng.randint(0, row.page_count - 1)
        else:
            pages = row.page_count
        for page in range(1, pages + 1):
            services.page_complete(
                assignment=row.assignment,
                page_number=page,
                page_count=row.page_count,
                state=row.state.state,
            )
        if pages < row.page_count:
            return


def add_contacts(episode: Episode, rng: random.Random, now) -> None:
    days = (now - episode.started_at).days
    for week in range(0, days, 7):
        status = ContactStatus.ATTENDED if rng.random() < 0.85 else ContactStatus.DID_NOT_ATTEND
        contact = services.contact_book(
            episode=episode,
            kind=rng.choice(["phone", "video", "face_to_face"]),
            scheduled_at=episode.started_at + timedelta(days=week, hours=2),
        )
        services.contact_set_status(contact=contact, status=status)
    services.contact_book(
        episode=episode,
        kind="phone" if episode.care_model != "blended" else "face_to_face",
        scheduled_at=(now + timedelta(days=rng.randint(1, 6))).replace(
            hour=rng.choice([9, 10, 11, 14, 15]), minute=0, second=0, microsecond=0
        ),
    )


def add_an_addon(episode: Episode, rng: random.Random) -> None:
    addon = Programme.objects.filter(kind=ProgrammeKind.ADDON).order_by("key", "-version").first()
    if addon is None:
        return
    module = rng.choice(list(Module.objects.filter(programme=addon)))
    services.plan_add_addon(episode=episode, module=module, actor=episode.supporter.user)


# --- Reviews and contact notes -----------------------------------------------------------

# Every third patient's latest review is left undone, so the review queue has work in it.
DUE_EVERY = 3

NEXT_STEPS = [
    "Finish the next module before our call, and try the thought record once.",
    "Plan two small pleasant activities and note your mood before and after.",
    "Keep the daily check-in going; notice which days feel easier.",
    "Try the worry time exercise for ten minutes each evening.",
]

CONTACT_NOTES = [
    "Reviewed the week's thought records together. Patient identified a pattern of "
    "mind-reading at work and found a balanced thought. Agreed to keep practising.",
    "Mood lower this week after poor sleep. Talked through the activity plan; chose two "
    "manageable activities. No risk disclosed; crisis plan reviewed.",
    "Good engagement. Went over the module on behavioural activation and set a realistic "
    "target for the week. Patient feels more hopeful.",
    "Discussed barriers to using the programme (time, childcare). Agreed shorter sessions "
    "at lunchtime. Scores improving.",
]


def add_review_schedules() -> None:
    """The default review schedule, written down for the demo service."""
    for service in Service.objects.filter(slug="riverside"):
        for care_model, days in review_rules.DEFAULT_INTERVAL_DAYS.items():
            ReviewSchedule.objects.get_or_create(
                service=service, care_model=care_model, defaults={"interval_days": days}
            )


def demo_feedback(episode: Episode, rng: random.Random) -> str:
    template = rng.choice(review_rules.FEEDBACK_TEMPLATES)
    user = episode.patient.user
    values = {
        "patient_first_name": user.preferred_name or user.full_name.split()[0],
        "supporter_name": episode.supporter.user.display_name,
        "modules_done": review_rules.modules_phrase([]),
    }
    return review_rules.fill_placeholders(str(template.body), values)


@transaction.atomic
def add_reviews(rng: random.Random, now) -> int:
    """Past reviews, one per interval, for the demo episodes that have none."""
    episodes = (
        Episode.objects.filter(
            status=EpisodeStatus.ACTIVE,
            patient__user__email__endswith="@demo.example",
            supporter__isnull=False,
            reviews__isnull=True,
        )
        .select_related("patient__user", "supporter__user")
        .order_by("patient__user__email")
    )
    added = 0
    for episode in episodes:
        interval = timedelta(
            days=selectors.review_schedule_of(episode.patient.service)[episode.care_model]
        )
        times = []
        opened = episode.started_at + interval + timedelta(hours=rng.randint(1, 30))
        while opened + timedelta(hours=1) < now:
            times.append(opened)
            opened += interval + timedelta(hours=rng.randint(-6, 6))
        if demo_number(episode.patient) % DUE_EVERY == 0:
            times = times[:-1]
        for opened in times:
            minutes = rng.randint(6, 25)
            Review.objects.create(
                episode=episode,
                reviewer=episode.supporter,
                covers_from=episode.started_at,
                opened_at=opened,
                completed_at=opened + timedelta(minutes=minutes),
                minutes_spent=minutes,
                feedback=demo_feedback(episode, rng),
                next_steps=rng.choice(NEXT_STEPS),
                feedback_delivery=FeedbackDelivery.WEEK,
            )
            added += 1
    return added


@transaction.atomic
def add_contact_notes(rng: random.Random, now) -> int:
    """The outcome of past demo contacts: notes and time for attended ones."""
    contacts = (
        Contact.objects.filter(
            # The demo's patients (the insights demo's former patients keep theirs as made).
            episode__patient__user__email__startswith="patient",
            episode__patient__user__email__endswith="@demo.example",
            status__in=[ContactStatus.ATTENDED, ContactStatus.DID_NOT_ATTEND],
            recorded_at__isnull=True,
            scheduled_at__lt=now,
        )
        .select_related("supporter__user")
        .order_by("pk")
    )
    recorded = 0
    for contact in contacts:
        attended = contact.status == ContactStatus.ATTENDED
        contact.notes = rng.choice(CONTACT_NOTES) if attended else ""
        contact.minutes_spent = contact.duration_minutes if attended else 10
        contact.recorded_by = contact.supporter.user if contact.supporter else None
        contact.recorded_at = contact.scheduled_at + timedelta(minutes=contact.duration_minutes)
        contact.save(update_fields=["notes", "minutes_spent", "recorded_by", "recorded_at"])
        recorded += 1
    return recorded
