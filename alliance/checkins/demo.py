"""Demo data of the daily check-in: a realistic history for every demo patient with an
episode.

Called by ``alliance demo`` after the care demo. People check in on most days, lapse for a
few days to a fortnight now and then, and come back; their mood drifts with their course
(most improve, some hold steady, one in four slowly worsens) around a noisy day-to-day
line. A few patients are in a lapse right now, so the "welcome back" can be seen, and a few
are on a run of days. Seeded per patient: every demo looks the same. Patients who already
have check-ins are left alone, so running it again adds nothing.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from alliance.accounts.models import Patient
from alliance.care.models import Episode
from alliance.checkins import daily
from alliance.checkins.models import DailyCheckIn

# Mood change per day of the episode, by course.
COURSES = {"improving": 0.06, "slow": 0.025, "flat": 0.0, "worsening": -0.025}
COURSE_ORDER = ["improving", "slow", "improving", "worsening", "flat", "improving"]
UPLIFTING = ["calm", "content", "hopeful", "grateful"]
HEAVY = ["tired", "anxious", "low", "irritable", "lonely", "overwhelmed"]
ACTIVITIES = [
    "Walked to the park",
    "Called my sister",
    "Cooked a proper dinner",
    "Went to work",
    "Tidied the kitchen",
    "Swimming",
    "Read for half an hour",
    "Coffee with a friend",
    "Gardening",
    "Played with the kids",
    "Stayed in bed most of the day",
    "Went to the shops",
]
NOTES = [
    "Better than I expected.",
    "Hard morning, easier afternoon.",
    "Slept badly again.",
    "Tried the breathing exercise before the meeting — it helped a bit.",
    "Felt flat but got out anyway.",
    "Good chat with my supporter.",
    "Worried about money.",
    "Nice to see the sun.",
]


def demo_number(patient: Patient) -> int:
    digits = "".join(c for c in patient.user.email.split("@")[0] if c.isdigit())
    return int(digits or 0)


def populate(*, now=None) -> int:
    """Check-in histories for demo patients with an episode and no check-ins yet. Returns
    how many check-ins were made."""
    now = now or timezone.now()
    patients = (
        Patient.objects.filter(user__email__endswith="@demo.example")
        .filter(Exists(Episode.objects.filter(patient=OuterRef("pk"))))
        .exclude(Exists(DailyCheckIn.objects.filter(patient=OuterRef("pk"))))
        .select_related("user")
        .order_by("user__email")
    )
    made = 0
    for patient in patients:
        episode = patient.episodes.order_by("started_at").first()
        checkins = history(patient, episode, now)
        DailyCheckIn.objects.bulk_create(checkins, batch_size=500)
        made += len(checkins)
    return made


def history(patient: Patient, episode: Episode, now) -> list[DailyCheckIn]:
    number = demo_number(patient)
    rng = random.Random(f"alliance-checkins-{number}")  # noqa: S311  (demo data)
    zone = patient.user.time_zone
    today = daily.local_date_at(now, zone)
    first = daily.local_date_at(episode.started_at, zone)
    last = daily.local_date_at(episode.ended_at, zone) if episode.ended_at else today
    course = COURSES[COURSE_ORDER[number % len(COURSE_ORDER)]]
    start_mood = rng.uniform(2.5, 4.5)
    diligence = rng.uniform(0.7, 0.95)
    # Some are in a lapse right now (welcome back), some on a run of days (a streak).
    lapsed_now = number % 6 == 2
    on_a_run = number % 6 == 1
    quiet_until = first - timedelta(days=1)
    checkins = []
    day = first
    while day <= last:
        days_in = (day - first).days
        if lapsed_now and (today - day).days < 5 + number % 4:
            break
        run = on_a_run and (today - day).days < 6
        if day <= quiet_until and not run:
            day += timedelta(days=1)
            continue
        if not run and rng.random() < 0.05:
            # A lapse: life gets in the way for a few days, then they come back.
            quiet_until = day + timedelta(days=rng.randint(3, 12))
            day += timedelta(days=1)
            continue
        if run or rng.random() < diligence:
            if day != today or run or rng.random() < 0.4:
                checkins.append(one_checkin(patient, day, start_mood + course * days_in, rng))
        day += timedelta(days=1)
    return checkins


def one_checkin(patient: Patient, day: date, expected: float, rng: random.Random) -> DailyCheckIn:
    weekend = 0.3 if day.weekday() >= 5 else 0.0
    mood = max(0, min(10, round(expected + weekend + rng.gauss(0, 1.1))))
    feelings = []
    if rng.random() < 0.6:
        pool = UPLIFTING if mood >= 6 else HEAVY if mood <= 4 else UPLIFTING + HEAVY
        chosen = set(rng.sample(pool, k=min(len(pool), rng.randint(1, 3))))
        feelings = [key for key in daily.FEELING_KEYS if key in chosen]
    sleep = None
    if rng.random() < 0.6:
        hours = rng.gauss(7 + (mood - 5) * 0.15, 0.9)
        sleep = Decimal(str(max(3.0, min(11.0, round(hours * 2) / 2))))
    return DailyCheckIn(
        patient=patient,
        local_date=day,
        mood=mood,
        feelings=feelings,
        sleep_hours=sleep,
        activity=rng.choice(ACTIVITIES) if rng.random() < 0.35 else "",
        note=rng.choice(NOTES) if rng.random() < 0.15 else "",
    )
