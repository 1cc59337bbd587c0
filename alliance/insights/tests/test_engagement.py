"""The engagement record: daily aggregates per patient, their recomputation, the events and
sessions they come from, the patient's engagement page and the engagement API."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.care.models import ContactStatus, ModuleAssignment
from alliance.checkins.models import DailyCheckIn, ExerciseEntry, ExerciseEntryVersion
from alliance.conftest import make_patient
from alliance.insights import services, tasks
from alliance.insights.middleware import PatientActivityMiddleware
from alliance.insights.models import ActivitySession, EngagementEvent, PatientDay
from alliance.insights.selectors import optional_model
from alliance.insights.tests.analytics_factories import NOW, active_days, contact

URLS = "alliance.insights.tests.analytics_urls"
UTC = ZoneInfo("UTC")


def at(day: date, hour: int, minute: int = 0, tz=UTC) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def day_of(patient, when: date) -> PatientDay:
    return PatientDay.objects.get(patient=patient, date=when)


def exercise_saved(patient, when: datetime) -> None:
    entry = ExerciseEntry.objects.create(patient=patient, kind="thought_record", data={})
    ExerciseEntryVersion.objects.create(
        entry=entry, version=1, data={}, saved_at=when, saved_by=patient.user
    )


@pytest.fixture
def new_yorker(alice):
    """Alice lives in New York: her days are New York days."""
    alice.user.time_zone = "America/New_York"
    alice.user.save(update_fields=["time_zone"])
    return alice


class TestEngagementRecompute:
    def test_it_counts_every_source_on_the_patients_own_day(self, new_yorker, episode):
        # 03:30 UTC on 10 March is still 9 March in New York.
        late = at(date(2026, 3, 10), 3, 30)
        ActivitySession.objects.create(
            patient=new_yorker, started_at=late, last_seen_at=late + timedelta(minutes=12)
        )
        services.engagement_event_record(patient=new_yorker, kind="page_completed", at=late)
        services.engagement_event_record(patient=new_yorker, kind="page_completed", at=late)
        ModuleAssignment.objects.filter(episode=episode, position=1).update(completed_at=late)
        exercise_saved(new_yorker, late)
        DailyCheckIn.objects.create(patient=new_yorker, local_date=date(2026, 3, 9), mood=6)
        contact(episode, ContactStatus.ATTENDED, late)
        contact(episode, ContactStatus.DID_NOT_ATTEND, late + timedelta(days=1))

        services.engagement_recompute(start=date(2026, 3, 8), end=date(2026, 3, 11), now=NOW)

        day = day_of(new_yorker, date(2026, 3, 9))
        assert day.active
        assert (day.sessions, day.minutes) == (1, 13)
        assert (day.pages_completed, day.modules_completed, day.exercises) == (2, 1, 1)
        assert (day.checkins, day.contacts_attended, day.contacts_missed) == (1, 1, 0)
        missed = day_of(new_yorker, date(2026, 3, 10))
        assert missed.contacts_missed == 1
        assert not PatientDay.objects.filter(date=date(2026, 3, 11)).exists()

    def test_it_does_not_call_a_day_active_for_what_others_did(self, alice, episode):
        contact(episode, ContactStatus.DID_NOT_ATTEND, at(date(2026, 3, 10), 10))
        services.engagement_recompute(start=date(2026, 3, 10), end=date(2026, 3, 10), now=NOW)
        day = day_of(alice, date(2026, 3, 10))
        assert day.contacts_missed == 1
        assert not day.active

    def test_it_counts_messages_when_messaging_is_there(self, alice):
        message = optional_model("messaging", "Message")
        if message is None:
            pytest.skip("The messaging tables are not migrated yet: messages count as 0.")
        thread_model = optional_model("messaging", "Thread")
        thread = thread_model.objects.create(patient=alice)
        when = at(date(2026, 3, 10), 9)
        message.objects.create(
            thread=thread, author=alice.user, body="Hi", sent_at=when, is_from_patient=True
        )
        services.engagement_recompute(start=date(2026, 3, 10), end=date(2026, 3, 10), now=NOW)
        day = day_of(alice, date(2026, 3, 10))
        assert (day.messages_sent, day.messages_received, day.active) == (1, 0, True)

    def test_it_empties_days_that_have_nothing_left(self, alice, episode):
        visit = contact(episode, ContactStatus.ATTENDED, at(date(2026, 3, 10), 10))
        services.engagement_recompute(start=date(2026, 3, 9), end=date(2026, 3, 11), now=NOW)
        visit.scheduled_at = at(date(2026, 3, 11), 10)
        visit.save(update_fields=["scheduled_at"])

        services.engagement_recompute(
            start=date(2026, 3, 9), end=date(2026, 3, 11), now=NOW + timedelta(hours=1)
        )

        assert list(PatientDay.objects.values_list("date", flat=True)) == [date(2026, 3, 11)]

    def test_it_writes_the_same_record_when_run_again(self, alice, episode):
        contact(episode, ContactStatus.ATTENDED, at(date(2026, 3, 10), 10))
        for hour in (0, 1):
            services.engagement_recompute(
                start=date(2026, 3, 9), end=date(2026, 3, 11), now=NOW + timedelta(hours=hour)
            )
        assert PatientDay.objects.count() == 1
        assert day_of(alice, date(2026, 3, 10)).contacts_attended == 1

    def test_it_leaves_other_patients_and_other_days_alone(self, alice, bob, episode):
        services.engagement_event_record(patient=bob, kind="page_completed", at=NOW)
        active_days(alice, [date(2026, 1, 1)])
        services.engagement_recompute(
            patient_ids=[alice.pk], start=NOW.date(), end=NOW.date(), now=NOW
        )
        assert not PatientDay.objects.filter(patient=bob).exists()
        assert PatientDay.objects.filter(patient=alice, date=date(2026, 1, 1)).exists()

    def test_it_refuses_an_end_before_the_start_and_changes_nothing(self, alice):
        active_days(alice, [date(2026, 3, 10)])
        with pytest.raises(Exception) as raised:
            services.engagement_recompute(start=date(2026, 3, 10), end=date(2026, 3, 9))
        assert "end" in raised.value.message_dict
        assert PatientDay.objects.count() == 1

    def test_it_runs_a_fixed_number_of_queries_whatever_the_patients(self, riverside, north, sam):
        def run_with(patients: int) -> int:
            for n in range(patients):
                patient = make_patient(riverside, north, f"P{patients}x{n} Test", supporter=sam)
                services.engagement_event_record(patient=patient, kind="page_completed", at=NOW)
            with CaptureQueriesContext(connection) as queries:
                services.engagement_recompute(start=NOW.date(), end=NOW.date(), now=NOW)
            return len(queries)

        optional_model("messaging", "Message")  # the one-off table check, outside the count
        assert run_with(2) == run_with(20)


class TestEngagementEventRecord:
    def test_it_adds_an_event_once_per_key(self, alice, django_assert_num_queries):
        with django_assert_num_queries(1):
            services.engagement_event_record(patient=alice, kind="page_completed", key="p:1:2")
        services.engagement_event_record(patient=alice.pk, kind="page_completed", key="p:1:2")
        services.engagement_event_record(patient=alice.pk, kind="page_completed", key="p:1:3")
        assert EngagementEvent.objects.count() == 2

    def test_events_without_a_key_are_all_kept(self, alice):
        for _ in range(2):
            services.engagement_event_record(patient=alice, kind="page_completed")
        assert EngagementEvent.objects.count() == 2

    def test_it_refuses_an_unknown_kind(self, alice):
        with pytest.raises(ValueError):
            services.engagement_event_record(patient=alice, kind="nonsense")
        assert not EngagementEvent.objects.exists()


class TestActivityTouch:
    def test_it_extends_a_session_and_opens_a_new_one_after_the_gap(self, alice):
        services.activity_touch(patient_id=alice.pk, at=NOW)
        services.activity_touch(patient_id=alice.pk, at=NOW + timedelta(minutes=20))
        services.activity_touch(patient_id=alice.pk, at=NOW + timedelta(minutes=51))
        sessions = list(ActivitySession.objects.order_by("started_at"))
        assert [(s.started_at, s.last_seen_at) for s in sessions] == [
            (NOW, NOW + timedelta(minutes=20)),
            (NOW + timedelta(minutes=51), NOW + timedelta(minutes=51)),
        ]


@pytest.mark.urls(URLS)
class TestPatientActivityMiddleware:
    @pytest.fixture(autouse=True)
    def with_middleware(self, settings):
        settings.MIDDLEWARE = [
            *settings.MIDDLEWARE,
            "alliance.insights.middleware.PatientActivityMiddleware",
        ]

    def test_it_records_a_patients_visits_at_most_once_a_minute(self, login, alice, episode):
        client = login(alice)
        client.get(reverse("care:week"))
        client.get(reverse("care:week"))
        assert ActivitySession.objects.filter(patient=alice).count() == 1
        session = client.session
        session["insights.touched_at"] = 0  # a minute later
        session.save()
        client.get(reverse("care:week"))
        assert ActivitySession.objects.filter(patient=alice).count() == 1

    def test_it_does_not_count_staff(self, login, sam):
        login(sam).get(reverse("accounts:home"))
        assert not ActivitySession.objects.exists()

    def test_it_never_breaks_the_page_when_it_cannot_write(self, rf, alice, monkeypatch):
        from django.db import DatabaseError
        from django.http import HttpResponse

        def broken(**kwargs):
            raise DatabaseError("down")

        monkeypatch.setattr(services, "activity_touch", broken)
        request = rf.get("/")
        request.user = alice.user
        request.session = type("S", (dict,), {"session_key": "k"})()
        response = PatientActivityMiddleware(lambda r: HttpResponse("ok"))(request)
        assert response.status_code == 200


class TestTasks:
    def test_the_hourly_task_brings_today_up_to_date(self, alice, episode):
        services.engagement_event_record(patient=alice, kind="page_completed")
        result = tasks.insights_hourly.call_local()
        assert result["days"] >= 1
        assert PatientDay.objects.filter(patient=alice, pages_completed=1).exists()

    def test_the_nightly_task_classifies_the_episodes(self, alice, episode):
        result = tasks.insights_nightly.call_local()
        assert result["classified"] == 1


@pytest.mark.urls(URLS)
class TestGetEngagement:
    def url(self, patient, **params):
        from urllib.parse import urlencode

        base = f"/api/v1/patients/{patient.pk}/engagement"
        return f"{base}?{urlencode(params)}" if params else base

    def test_it_gives_the_care_team_the_days_with_something_in_them(self, login, alice, sam):
        active_days(alice, [date(2026, 3, 9), date(2026, 3, 10)])
        response = login(sam).get(self.url(alice, start="2026-03-01", end="2026-03-31"))
        assert response.status_code == 200
        body = response.json()
        assert [d["date"] for d in body["days"]] == ["2026-03-09", "2026-03-10"]
        assert body["days"][0]["active"] is True

    def test_it_gives_a_patient_their_own(self, login, alice):
        active_days(alice, [date(2026, 3, 9)])
        response = login(alice).get(self.url(alice, start="2026-03-01", end="2026-03-31"))
        assert response.status_code == 200

    @pytest.mark.parametrize("outsider", ["oscar", "priya", "bob", "tomasz"])
    def test_it_is_not_found_for_outsiders(self, request, login, alice, outsider):
        response = login(request.getfixturevalue(outsider)).get(self.url(alice))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_it_refuses_an_end_before_the_start(self, login, alice, sam):
        response = login(sam).get(self.url(alice, start="2026-03-10", end="2026-03-01"))
        assert response.status_code == 422
        assert "end" in response.json()["error"]["fields"]


@pytest.mark.urls(URLS)
class TestPatientPage:
    def test_it_shows_the_care_team_the_weeks_and_the_alliance(self, login, alice, sam, episode):
        active_days(alice, [date.today() - timedelta(days=1)])
        response = login(sam).get(reverse("analytics:patient", args=[alice.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Engagement week by week" in page
        assert "Working alliance" in page

    @pytest.mark.parametrize("outsider", ["oscar", "priya"])
    def test_it_is_not_found_for_staff_who_cannot_see_the_patient(
        self, request, login, alice, outsider
    ):
        response = login(request.getfixturevalue(outsider)).get(
            reverse("analytics:patient", args=[alice.pk])
        )
        assert response.status_code == 404

    def test_it_is_not_for_patients(self, login, alice):
        response = login(alice).get(reverse("analytics:patient", args=[alice.pk]))
        assert response.status_code == 403

    def test_it_runs_a_fixed_number_of_queries(
        self, login, alice, sam, episode, django_assert_num_queries
    ):
        from alliance.insights.tests.analytics_factories import wai_sr

        client = login(sam)
        url = reverse("analytics:patient", args=[alice.pk])
        client.get(url)  # warm up: sessions, the first audit entry
        counts = []
        for extra in (2, 30):
            start = date.today() - timedelta(days=60)
            active_days(alice, [start + timedelta(days=extra + i) for i in range(extra)])
            for i in range(extra // 2):
                wai_sr(episode, 4.0, NOW + timedelta(days=i, minutes=extra))
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]
