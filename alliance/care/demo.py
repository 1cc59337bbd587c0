"""Demo data of the care app: programmes loaded, patients enrolled with realistic progress.

Called by ``alliance demo``. Only patients with no episode yet are enrolled, so running it
again changes nothing. The randomness is seeded: every demo looks the same.
"""

import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alliance.accounts.models import Patient
from alliance.care import selectors, services
from alliance.care.models import ContactStatus, Episode
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
