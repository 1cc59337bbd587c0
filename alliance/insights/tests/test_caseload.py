"""The caseload: the triage rule, the page, the API, access and query counts.

The helpers here (``make_score``, ``make_history``...) and the ``support_urls`` fixture are
shared with ``test_brief.py`` and ``test_supervision.py``.
"""

import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.care import services as care_services
from alliance.care.models import Contact, ContactStatus, Episode
from alliance.checkins.models import DailyCheckIn, ExerciseEntry
from alliance.conftest import make_patient, make_staff
from alliance.insights.caseload import (
    CaseloadFilter,
    CaseloadRow,
    ScoreTrend,
    Tier,
    caseload,
    parse_filter,
    triage_key,
    triage_reasons,
    triage_tier,
)
from alliance.insights.models import AlertKind
from alliance.insights.services import alert_raise
from alliance.measures.models import QuestionnaireRequest, RequestStatus, Response

# --- Mounting the support pages and API when the project does not yet -----------------
# The lead engineer wires ``alliance.insights.urls_support`` into alliance/urls.py and
# ``api_support.router`` into alliance/api.py. Until then these tests mount both here.


def _test_urlpatterns():
    from alliance.api import AllianceApi, SessionAuth, TokenAuth
    from alliance.api import api as main_api
    from alliance.insights.api_support import router

    test_api = AllianceApi(
        title="Alliance API (support under test)",
        version="support-test",
        auth=[SessionAuth(), TokenAuth()],
        urls_namespace="api",
    )
    test_api._exception_handlers = dict(main_api._exception_handlers)
    test_api.add_router("/", router)
    return [
        path("api/v1/", test_api.urls),
        path("", include("alliance.insights.urls_support")),
        path("", include("alliance.urls")),
    ]


def support_is_mounted() -> bool:
    try:
        reverse("support:caseload")
        reverse("api:get_caseload")
    except NoReverseMatch:
        return False
    return True


urlpatterns = _test_urlpatterns()


@pytest.fixture(autouse=True)
def support_urls(settings):
    if not support_is_mounted():
        settings.ROOT_URLCONF = __name__


# At most: the session, the user, their two-factor device, their staff profile (4); the
# patients with their latest exercise, check-in and message; their episodes; the episodes'
# page progress and next contacts (2); recent scores; open alerts; the services'
# inactivity thresholds; reviews due (2); overdue threads (2); the page's header
# (notification bell) and the session's save (3).
CASELOAD_QUERIES = 19


# --- Data -------------------------------------------------------------------------------


def make_score(patient, instrument, total, at, *, episode=None, mean=None, subscales=None):
    """A scored response, as if the patient had submitted the questionnaire at ``at``."""
    request = QuestionnaireRequest.objects.create(
        patient=patient,
        episode=episode,
        instrument=instrument,
        occasion=f"test:{uuid.uuid4()}",
        available_from=at,
        due_at=at,
        status=RequestStatus.COMPLETED,
    )
    return Response.objects.create(
        request=request,
        patient=patient,
        episode=episode,
        instrument=instrument,
        submitted_at=at,
        submitted_by=patient.user,
        total=total,
        severity="",
        risk=False,
        mean=mean,
        subscales=subscales or {},
    )


def make_checkin(patient, day: date, mood: int):
    return DailyCheckIn.objects.create(patient=patient, local_date=day, mood=mood)


def make_entry(patient, kind="thought_record", data=None, at=None):
    entry = ExerciseEntry.objects.create(
        patient=patient,
        kind=kind,
        data=data
        or {
            "situation": "Lunch with my sister",
            "automatic_thought": "She thinks I am a failure",
            "balanced_thought": "She asked because she cares",
        },
    )
    if at is not None:
        ExerciseEntry.objects.filter(pk=entry.pk).update(created_at=at, updated_at=at)
        entry.refresh_from_db()
    return entry


def send_message(patient, author, body, at):
    from alliance.messaging.selectors import thread_for
    from alliance.messaging.services import message_send

    message, _created = message_send(thread=thread_for(patient), author=author, body=body, now=at)
    return message


def start_episode(patient, programme, supporter, *, days_ago=0):
    return care_services.episode_start(
        patient=patient,
        programme=programme,
        care_model="blended",
        supporter=supporter,
        actor=None,
        started_at=timezone.now() - timedelta(days=days_ago),
    )


def attended_contact(episode, at, *, minutes=None):
    contact = Contact.objects.create(
        episode=episode,
        supporter=episode.supporter,
        kind="phone",
        scheduled_at=at,
        status=ContactStatus.ATTENDED,
        minutes_spent=minutes,
    )
    return contact


def make_history(patient, episode, *, weeks: int, now=None):
    """A patient's history: a check-in a day, a PHQ-9 and GAD-7 and a contact a week, an
    exercise entry and a message every other week."""
    now = now or timezone.now()
    start = now - timedelta(weeks=weeks)
    DailyCheckIn.objects.bulk_create(
        DailyCheckIn(patient=patient, local_date=(start + timedelta(days=d)).date(), mood=d % 11)
        for d in range(weeks * 7)
    )
    for w in range(weeks):
        at = start + timedelta(weeks=w, hours=1)
        make_score(patient, "phq9", 12 + w % 5, at, episode=episode)
        make_score(patient, "gad7", 9 + w % 4, at, episode=episode)
        attended_contact(episode, at + timedelta(hours=1), minutes=30)
        if w % 2 == 0:
            make_entry(patient, at=at)
            send_message(patient, patient.user, f"Week {w} was hard", at)


# --- The triage rule (pure) -------------------------------------------------------------


def fake_row(name, **values) -> CaseloadRow:
    patient = SimpleNamespace(pk=hash(name) % 10_000, user=SimpleNamespace(full_name=name))
    fields = {
        "patient": patient,
        "status": "active",
        "episode": None,
        "last_activity_at": None,
        "next_contact_at": None,
    }
    fields.update(values)
    return CaseloadRow(**fields)


def alert(kind, days_ago=1):
    return SimpleNamespace(kind=kind, raised_at=timezone.now() - timedelta(days=days_ago))


def trend(instrument, first, latest):
    return ScoreTrend(instrument, (first, latest), first, 2)


class TestTriageKey:
    def test_it_orders_risk_then_replies_reviews_deterioration_inactivity_the_rest(self):
        rows = [
            fake_row("Rest"),
            fake_row("Inactive", inactive_days=30),
            fake_row("Worse", scores={"phq9": trend("phq9", 8, 20)}),
            fake_row("Review", review_due_at=timezone.now()),
            fake_row("Reply", messages_overdue=True, unanswered_messages=1),
            fake_row("Risk", alerts=[alert(AlertKind.RISK)]),
        ]
        ordered = [r.patient.user.full_name for r in sorted(rows, key=triage_key)]
        assert ordered == ["Risk", "Reply", "Review", "Worse", "Inactive", "Rest"]

    def test_it_puts_the_longest_wait_first_inside_a_tier(self):
        now = timezone.now()
        late = fake_row("Late", messages_overdue=True, oldest_unanswered_at=now - timedelta(9))
        later = fake_row("Later", messages_overdue=True, oldest_unanswered_at=now - timedelta(3))
        assert sorted([later, late], key=triage_key) == [late, later]

    def test_it_puts_an_overdue_review_before_one_just_due(self):
        now = timezone.now()
        due = fake_row("Due", review_due_at=now - timedelta(days=20))
        overdue = fake_row("Overdue", review_due_at=now - timedelta(days=1), review_overdue=True)
        assert sorted([due, overdue], key=triage_key) == [overdue, due]

    def test_it_takes_the_tier_of_each_kind_of_alert(self):
        assert triage_tier(fake_row("a", alerts=[alert(AlertKind.DETERIORATION)])) == (
            Tier.DETERIORATION
        )
        assert triage_tier(fake_row("a", alerts=[alert(AlertKind.RUPTURE)])) == Tier.DETERIORATION
        assert triage_tier(fake_row("a", alerts=[alert(AlertKind.INACTIVITY)])) == Tier.INACTIVE
        assert triage_tier(fake_row("a", alerts=[alert(AlertKind.OVERDUE)])) == Tier.REVIEW_DUE
        assert triage_tier(fake_row("a", alerts=[alert("something_new")])) == Tier.OTHER_ALERT

    def test_it_keeps_the_most_urgent_reason(self):
        row = fake_row(
            "Both", alerts=[alert(AlertKind.INACTIVITY), alert(AlertKind.RISK)], inactive_days=40
        )
        assert triage_tier(row) == Tier.RISK

    def test_it_counts_inactivity_from_the_services_threshold(self):
        assert not fake_row("a", inactive_days=6).inactive
        assert fake_row("a", inactive_days=7).inactive
        assert not fake_row("a", inactive_days=10, inactive_after=14).inactive

    def test_it_sorts_the_rest_by_next_contact_then_name(self):
        now = timezone.now()
        soon = fake_row("Zed", next_contact_at=now + timedelta(hours=2))
        later = fake_row("Amy", next_contact_at=now + timedelta(days=2))
        none = fake_row("Bea")
        assert sorted([none, later, soon], key=triage_key) == [soon, later, none]

    def test_it_says_why_in_words(self):
        row = fake_row(
            "Why",
            alerts=[alert(AlertKind.RISK)],
            unanswered_messages=2,
            scores={"phq9": trend("phq9", 5, 15)},
            inactive_days=9,
        )
        assert triage_reasons(row) == [
            "Risk alert",
            "2 unanswered messages",
            "PHQ-9 reliably worse",
            "Inactive for 9 days",
        ]

    def test_it_reads_reliable_change_from_the_instruments_thresholds(self):
        assert trend("phq9", 15, 9).change == "improvement"
        assert trend("phq9", 15, 10).change == "no_reliable_change"
        assert trend("gad7", 6, 10).change == "deterioration"


class TestParseFilter:
    def test_it_reads_the_query_string(self):
        wanted, errors = parse_filter({"scope": "team", "need": "risk", "sort": "name"})
        assert wanted == CaseloadFilter(scope="team", status="all", need="risk", sort="name")
        assert errors == {}

    def test_it_names_the_field_of_an_unknown_value_and_falls_back(self):
        wanted, errors = parse_filter({"sort": "shoe-size"})
        assert wanted.sort == "triage"
        assert list(errors) == ["sort"]
        assert "shoe-size is not one of" in errors["sort"][0]


# --- The page ------------------------------------------------------------------------------


@pytest.fixture
def dan(riverside, north, sam):
    return make_patient(riverside, north, "Dan Quiet", supporter=sam)


@pytest.fixture
def eve(riverside, north, sam):
    return make_patient(riverside, north, "Eve Worse", supporter=sam)


def rows_in_order(page: str, *names: str) -> bool:
    positions = [page.index(name) for name in names]
    return positions == sorted(positions)


class TestCaseloadPage:
    def test_it_lists_a_supporters_patients_in_triage_order(
        self, login, sam, alice, dan, eve, programme
    ):
        for patient in (alice, dan, eve):
            start_episode(patient, programme, sam)
        now = timezone.now()
        make_score(eve, "phq9", 8, now - timedelta(days=20))
        make_score(eve, "phq9", 19, now - timedelta(days=1))
        alert_raise(patient=alice, kind=AlertKind.RISK, cause="test:1", summary="PHQ-9 item 9")
        page = login(sam).get("/caseload/").content.decode()
        assert rows_in_order(page, "Alice Patient", "Eve Worse", "Dan Quiet")
        assert "Risk alert" in page
        assert "PHQ-9 reliably worse" in page
        assert "2 of 3 patients need you now." in page

    def test_it_shows_scores_with_a_sparkline_and_their_change(self, login, sam, eve):
        now = timezone.now()
        for days, total in ((30, 8), (20, 12), (1, 19)):
            make_score(eve, "phq9", total, now - timedelta(days=days))
        page = login(sam).get("/caseload/").content.decode()
        assert "<strong>19</strong>" in page
        assert "reliably worse" in page
        assert 'aria-label="PHQ-9 trend: latest 19, lowest 8, highest 19"' in page

    def test_it_shows_latest_activity_and_next_contact(self, login, sam, alice, programme):
        episode = start_episode(alice, programme, sam, days_ago=30)
        make_checkin(alice, timezone.localdate() - timedelta(days=2), 6)
        soon = (timezone.now() + timedelta(days=2)).replace(hour=10, minute=0)
        Contact.objects.create(episode=episode, supporter=sam, kind="video", scheduled_at=soon)
        page = login(sam).get("/caseload/").content.decode()
        local = timezone.localtime(soon)
        assert local.strftime("%H:%M") in page
        assert "None booked" not in page

    def test_it_flags_a_patient_who_has_done_nothing_for_a_while(
        self, login, sam, alice, programme
    ):
        start_episode(alice, programme, sam, days_ago=20)
        page = login(sam).get("/caseload/").content.decode()
        assert "Inactive for 20 days" in page

    def test_it_links_each_patient_to_the_pages_of_a_morning(self, login, sam, alice):
        page = login(sam).get("/caseload/").content.decode()
        for href in (
            f"/patients/{alice.pk}/brief/",
            f"/patients/{alice.pk}/review/",
            f"/messages/patients/{alice.pk}/",
            f"/patients/{alice.pk}/contacts/",
            f"/patients/{alice.pk}/plan/",
            f"/patients/{alice.pk}/scores/",
        ):
            assert f'href="{href}"' in page

    def test_it_shows_unanswered_and_overdue_messages(self, login, sam, alice, dan):
        send_message(alice, alice.user, "Can we talk?", timezone.now() - timedelta(days=10))
        send_message(dan, dan.user, "Thanks!", timezone.now() - timedelta(hours=1))
        page = login(sam).get("/caseload/").content.decode()
        assert "Reply overdue" in page
        assert "1 unanswered message" in page
        assert rows_in_order(page, "Alice Patient", "Dan Quiet")

    def test_it_shows_a_review_due(self, login, sam, alice, dan, programme):
        start_episode(alice, programme, sam, days_ago=30)
        start_episode(dan, programme, sam, days_ago=1)
        page = login(sam).get("/caseload/?need=review").content.decode()
        assert "Review overdue" in page
        assert "Dan Quiet" not in page

    def test_it_filters_by_status_and_sorts_by_name(self, login, sam, alice, dan, programme):
        start_episode(dan, programme, sam)
        client = login(sam)
        page = client.get("/caseload/?status=waiting").content.decode()
        assert "Alice Patient" in page and "Dan Quiet" not in page
        page = client.get("/caseload/?sort=name").content.decode()
        assert rows_in_order(page, "Alice Patient", "Dan Quiet")

    def test_it_shows_the_teams_patients_when_asked(self, login, riverside, north, sam, alice):
        sasha = make_staff(riverside, Role.SUPPORTER, "Sasha North", [north])
        make_patient(riverside, north, "Finn Other", supporter=sasha)
        client = login(sam)
        assert "Finn Other" not in client.get("/caseload/").content.decode()
        page = client.get("/caseload/?scope=team").content.decode()
        assert "Finn Other" in page and "Sasha North" in page

    def test_it_names_the_field_of_an_unknown_choice(self, login, sam, alice):
        response = login(sam).get("/caseload/?sort=shoe-size")
        assert response.status_code == 400
        page = response.content.decode()
        assert 'href="#filter-sort">Sort by: shoe-size is not one of' in page
        assert "Alice Patient" in page

    def test_it_shows_fifty_patients_a_page_most_urgent_first(
        self, login, riverside, north, sam, alice
    ):
        for n in range(55):
            make_patient(riverside, north, f"Zed{n:02d} Later", supporter=sam)
        alert_raise(patient=alice, kind=AlertKind.RISK, cause="t", summary="Risk")
        client = login(sam)
        page = client.get("/caseload/").content.decode()
        assert page.count('class="patient-name"') == 50
        assert "Patients 1–50 of 56" in page and "Alice Patient" in page
        assert (
            'href="/caseload/?scope=mine&amp;status=all&amp;need=all&amp;sort=triage&amp;page=2"'
            in page
        )
        second = client.get("/caseload/?page=2").content.decode()
        assert second.count('class="patient-name"') == 6
        assert "Patients 51–56 of 56" in second and "Alice Patient" not in second

    def test_it_names_a_page_that_is_not_a_number(self, login, sam, alice):
        response = login(sam).get("/caseload/?page=two")
        assert response.status_code == 400
        assert "Page: two is not a page number." in response.content.decode()

    def test_it_never_shows_patients_of_other_teams_or_services(
        self, login, sam, priya, oscar, alice, bob, carol
    ):
        page = login(sam).get("/caseload/?scope=team").content.decode()
        assert "Alice Patient" in page
        assert "Bob Southpatient" not in page and "Carol Hillpatient" not in page
        assert "Alice Patient" not in login(oscar).get("/caseload/?scope=team").content.decode()

    def test_it_is_for_supporters_navigators_and_supervisors(
        self, login, nia, morgan, ruth, tomasz, hana, ada, alice
    ):
        assert "Alice Patient" in login(nia).get("/caseload/").content.decode()
        assert "Alice Patient" in login(morgan).get("/caseload/").content.decode()
        for outsider in (ruth, tomasz, hana, ada):
            assert login(outsider).get("/caseload/").status_code == 403

    def test_it_is_not_found_for_a_patient(self, login, alice):
        assert login(alice).get("/caseload/").status_code == 404

    def test_it_asks_to_sign_in(self, client, db):
        response = client.get("/caseload/")
        assert response.status_code == 302 and "/sign-in/" in response["Location"]

    def test_it_runs_a_fixed_number_of_queries(
        self, login, riverside, north, sam, programme, django_assert_num_queries
    ):
        def add_patients(count, weeks):
            for n in range(count):
                patient = make_patient(riverside, north, f"P{n}-{weeks} Person", supporter=sam)
                episode = start_episode(patient, programme, sam, days_ago=weeks * 7)
                make_history(patient, episode, weeks=weeks)
                alert_raise(patient=patient, kind=AlertKind.RISK, cause=f"t:{n}", summary="Risk")

        client = login(sam)
        add_patients(3, weeks=2)
        client.get("/caseload/")
        with django_assert_num_queries(CASELOAD_QUERIES, exact=False) as small:
            assert client.get("/caseload/").status_code == 200
        add_patients(27, weeks=8)
        with django_assert_num_queries(len(small.captured_queries)):
            response = client.get("/caseload/")
        assert response.content.decode().count('class="patient-name"') == 30


class TestCaseloadSelector:
    def test_it_counts_patients_in_each_tier(self, sam, alice, dan, eve, programme):
        alert_raise(patient=alice, kind=AlertKind.RISK, cause="t", summary="Risk")
        found = caseload(sam.user, CaseloadFilter(need="attention"))
        assert found.total == 3
        assert found.tier_counts[Tier.RISK] == 1
        assert [r.patient for r in found.rows] == [alice]


# --- The API -------------------------------------------------------------------------------


class TestGetCaseload:
    def test_it_answers_rows_in_triage_order(self, login, sam, alice, dan, programme):
        start_episode(dan, programme, sam)
        alert_raise(patient=alice, kind=AlertKind.RISK, cause="t", summary="Risk")
        body = login(sam).get("/api/v1/caseload").json()
        assert [r["name"] for r in body["rows"]] == ["Alice Patient", "Dan Quiet"]
        first = body["rows"][0]
        assert first["tier"] == "risk"
        assert first["open_alerts"][0]["kind"] == "risk"
        assert first["links"]["brief"] == f"/patients/{alice.pk}/brief/"
        assert body["tier_counts"]["risk"] == 1
        assert body["filter"] == {
            "scope": "mine",
            "status": "all",
            "need": "all",
            "sort": "triage",
            "page": 1,
        }

    def test_it_pages(self, login, sam, alice, dan):
        body = login(sam).get("/api/v1/caseload?sort=name&page=2&page_size=1").json()
        assert [r["name"] for r in body["rows"]] == ["Dan Quiet"]
        assert body["matching"] == 2 and body["pages"] == 2

    def test_it_filters_and_sorts(self, login, sam, alice, dan):
        body = login(sam).get("/api/v1/caseload?sort=name&need=all&status=waiting").json()
        assert [r["name"] for r in body["rows"]] == ["Alice Patient", "Dan Quiet"]

    def test_it_names_the_field_of_an_unknown_choice(self, login, sam, alice):
        response = login(sam).get("/api/v1/caseload?sort=shoe-size")
        assert response.status_code == 422
        fields = list(response.json()["error"]["fields"])
        assert len(fields) == 1 and fields[0].endswith("sort")

    def test_it_refuses_staff_who_hold_no_caseload(self, login, tomasz, ruth, alice):
        for outsider in (tomasz, ruth, alice):
            response = login(outsider).get("/api/v1/caseload")
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "forbidden"

    def test_it_asks_to_sign_in(self, client, db):
        assert client.get("/api/v1/caseload").status_code == 401

    def test_it_shows_an_outsider_nothing(self, login, oscar, alice):
        assert login(oscar).get("/api/v1/caseload?scope=team").json()["rows"] == []


def test_episode_fixture_is_alices(episode, alice):
    assert Episode.objects.get(pk=episode.pk).patient == alice
