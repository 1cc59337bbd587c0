"""The check-in demo data: realistic histories, seeded, and added only once."""

from datetime import UTC, date, datetime, timedelta

import pytest

from alliance.accounts.models import Role
from alliance.care import services as care_services
from alliance.checkins import demo, selectors
from alliance.checkins.models import DailyCheckIn
from alliance.conftest import make_patient, make_staff

NOW = datetime(2026, 5, 12, 11, 0, tzinfo=UTC)


@pytest.fixture
def demo_patients(riverside, north, programme):
    supporter = make_staff(riverside, Role.SUPPORTER, "Demo Supporter", [north])
    patients = []
    for number in (1, 2, 3, 5):
        patient = make_patient(riverside, north, f"Patient{number:02d} Demo", supporter=supporter)
        patient.user.email = f"patient{number:02d}@demo.example"
        patient.user.save()
        if number != 5:  # every fifth demo patient is still waiting: no episode
            care_services.episode_start(
                patient=patient,
                programme=programme,
                care_model="blended",
                supporter=supporter,
                actor=supporter.user,
                started_at=NOW - timedelta(days=60),
            )
        patients.append(patient)
    return patients


class TestPopulate:
    def test_it_makes_check_ins_for_patients_with_an_episode(self, demo_patients):
        made = demo.populate(now=NOW)
        assert made == DailyCheckIn.objects.count() > 60
        with_checkins = set(DailyCheckIn.objects.values_list("patient__user__email", flat=True))
        assert "patient05@demo.example" not in with_checkins
        assert len(with_checkins) == 3

    def test_it_is_idempotent(self, demo_patients):
        demo.populate(now=NOW)
        count = DailyCheckIn.objects.count()
        assert demo.populate(now=NOW) == 0
        assert DailyCheckIn.objects.count() == count

    def test_it_is_the_same_every_time(self, demo_patients):
        demo.populate(now=NOW)
        first = list(
            DailyCheckIn.objects.order_by("patient_id", "local_date").values_list(
                "local_date", "mood", "feelings"
            )
        )
        DailyCheckIn.objects.all().delete()
        demo.populate(now=NOW)
        again = list(
            DailyCheckIn.objects.order_by("patient_id", "local_date").values_list(
                "local_date", "mood", "feelings"
            )
        )
        assert first == again

    def test_it_has_lapses_a_welcome_back_and_a_run_of_days(self, demo_patients):
        demo.populate(now=NOW)
        today = date(2026, 5, 12)
        by_email = {p.user.email: p for p in demo_patients}
        lapsed = by_email["patient02@demo.example"]
        assert selectors.checkin_status(lapsed, today).welcome_back is True
        on_a_run = by_email["patient01@demo.example"]
        assert selectors.checkin_status(on_a_run, today).streak >= 5
        for patient in demo_patients[:3]:
            days = list(
                DailyCheckIn.objects.filter(patient=patient).values_list("local_date", flat=True)
            )
            assert len(days) < 61  # not every day: people are human
            assert all(0 <= m <= 10 for m in DailyCheckIn.objects.values_list("mood", flat=True))

    def test_the_mood_drifts_with_the_course(self, demo_patients):
        demo.populate(now=NOW)
        improving = demo_patients[0]  # patient01: an improving course
        moods = list(
            DailyCheckIn.objects.filter(patient=improving)
            .order_by("local_date")
            .values_list("mood", flat=True)
        )
        third = len(moods) // 3
        assert sum(moods[-third:]) / third > sum(moods[:third]) / third
