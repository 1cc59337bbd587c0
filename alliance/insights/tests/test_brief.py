"""The pre-session brief: the suggested agenda (pure), the page, the API, access, audit and
query counts."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.care import services as care_services
from alliance.care.models import Contact, ContactStatus
from alliance.conftest import assignment
from alliance.insights.brief import (
    AllianceReading,
    Brief,
    ExerciseNote,
    MeasureChange,
    MoodDay,
    suggested_agenda,
)
from alliance.insights.models import AlertKind
from alliance.insights.services import alert_raise
from alliance.insights.tests.test_caseload import (  # noqa: F401  (support_urls: a fixture)
    attended_contact,
    make_checkin,
    make_entry,
    make_history,
    make_score,
    send_message,
    support_urls,
)

# --- The agenda (pure) ----------------------------------------------------------------------


def brief_with(**values) -> Brief:
    now = timezone.now()
    fields = {
        "patient": SimpleNamespace(pk=1),
        "episode": SimpleNamespace(pk=1),
        "now": now,
        "since": now - timedelta(days=7),
        "last_contact": None,
        "next_contact": None,
    }
    fields.update(values)
    return Brief(**fields)


def measure(code, name, first, latest, *, count=2):
    return MeasureChange(
        instrument=code,
        name=name,
        latest=latest,
        latest_at=timezone.now(),
        severity="",
        first=first,
        count=count,
        at_last_contact=None,
        new_since_contact=True,
        recent=(first, latest),
        y_max=27,
    )


def thought_record(situation="Lunch with my sister, who asked about my job"):
    return ExerciseNote(1, "thought_record", "Thought record", situation, timezone.now())


def homework(text):
    return SimpleNamespace(text=text)


class TestSuggestedAgenda:
    def test_it_starts_with_safety_when_a_risk_alert_is_open(self):
        agenda = suggested_agenda(
            brief_with(alerts=[SimpleNamespace(kind=AlertKind.RISK)], homework_open=[homework("x")])
        )
        assert agenda[0] == "Check safety first: a risk alert is open."

    def test_it_talks_about_what_has_been_harder_after_reliable_deterioration(self):
        agenda = suggested_agenda(brief_with(measures=[measure("phq9", "PHQ-9", 8, 16)]))
        assert agenda[0].startswith("Talk about what has been harder: the PHQ-9 is reliably worse")

    def test_it_reviews_homework_not_done(self):
        agenda = suggested_agenda(brief_with(homework_open=[homework("Walk daily")]))
        assert "Review homework: what got in the way." in agenda

    def test_it_checks_the_sessions_after_a_rupture(self):
        reading = AllianceReading(3.1, timezone.now(), {}, 4.2, rupture=True)
        agenda = suggested_agenda(brief_with(alliance=reading))
        assert agenda[0].startswith("Check how the sessions are working for them")

    def test_it_checks_the_sessions_when_a_rupture_alert_is_open(self):
        agenda = suggested_agenda(brief_with(alerts=[SimpleNamespace(kind=AlertKind.RUPTURE)]))
        assert agenda[0].startswith("Check how the sessions are working for them")

    def test_it_goes_through_the_latest_thought_record_by_its_situation(self):
        agenda = suggested_agenda(brief_with(exercises=[thought_record()]))
        assert (
            "Go through the thought record about “Lunch with my sister, who asked about my job”."
            in (agenda)
        )

    def test_it_shortens_a_long_situation(self):
        agenda = suggested_agenda(brief_with(exercises=[thought_record("word " * 40)]))
        item = next(i for i in agenda if i.startswith("Go through"))
        assert len(item) < 110 and "…" in item

    def test_it_asks_about_a_dip_in_mood(self):
        since = timezone.now() - timedelta(days=7)
        before = [MoodDay((since - timedelta(days=d)).date(), 7) for d in range(1, 5)]
        after = [MoodDay((since + timedelta(days=d)).date(), 4) for d in range(1, 5)]
        agenda = suggested_agenda(brief_with(since=since, mood=before + after))
        assert "Ask about the dip in mood since the last contact." in agenda

    def test_it_asks_gently_when_nothing_was_done(self):
        agenda = suggested_agenda(brief_with())
        assert agenda[0].startswith("Ask gently what made the programme hard to use")

    def test_it_recognises_progress(self):
        agenda = suggested_agenda(
            brief_with(
                measures=[measure("phq9", "PHQ-9", 18, 9)],
                homework_done=[homework("Walk")],
                exercises=[thought_record()],
            )
        )
        assert "Recognise the homework they did." in agenda
        assert "Notice the progress together: the scores have reliably improved." in agenda
        assert not any(i.startswith("Ask gently") for i in agenda)

    def test_it_always_ends_by_agreeing_next_steps(self):
        assert suggested_agenda(brief_with())[-1] == (
            "Agree the next steps and homework for next time."
        )


# --- The page --------------------------------------------------------------------------------


@pytest.fixture
def last_contact(episode):
    """Alice's last attended contact, three days ago; her episode began three weeks ago."""
    episode.started_at = timezone.now() - timedelta(days=21)
    episode.save(update_fields=["started_at"])
    return attended_contact(episode, timezone.now() - timedelta(days=3))


def brief_page(client, patient) -> str:
    response = client.get(f"/patients/{patient.pk}/brief/")
    assert response.status_code == 200
    return response.content.decode()


class TestBriefPage:
    def test_it_shows_what_happened_since_the_last_attended_contact(
        self, login, sam, alice, episode, last_contact
    ):
        old = make_entry(
            alice, data={"situation": "Before the contact", "automatic_thought": "Old"}
        )
        old.__class__.objects.filter(pk=old.pk).update(
            updated_at=timezone.now() - timedelta(days=5)
        )
        make_entry(alice)
        start = assignment(episode, "start")
        for page in (1, 2, 3):
            care_services.page_complete(
                assignment=start, page_number=page, page_count=3, state="available"
            )
        page = brief_page(login(sam), alice)
        assert "Since the last contact (phone," in page
        assert "Finished “Module start”" in page
        assert "Lunch with my sister" in page
        assert "She asked because she cares" in page  # the balanced thought
        assert "Before the contact" not in page
        assert "Go through the thought record about “Lunch with my sister”." in page

    def test_it_counts_from_the_episode_start_before_any_contact(self, login, sam, alice, episode):
        page = brief_page(login(sam), alice)
        assert "Since the start of the episode" in page
        assert "no attended contact yet" in page

    def test_it_draws_the_mood_trend(self, login, sam, alice, episode, last_contact):
        today = timezone.localdate()
        for days, mood in ((10, 7), (8, 7), (2, 4), (1, 3)):
            make_checkin(alice, today - timedelta(days=days), mood)
        page = brief_page(login(sam), alice)
        assert "<svg" in page and "Daily mood, 0 (very low) to 10 (very good)" in page
        assert "Average 3.5 out of 10 over 2 check-ins since the last contact, against 7.0" in (
            page
        )
        assert "Ask about the dip in mood since the last contact." in page
        assert "Mood as a table" in page

    def test_it_shows_scores_and_reliable_change(self, login, sam, alice, episode, last_contact):
        now = timezone.now()
        make_score(alice, "phq9", 18, now - timedelta(days=20), episode=episode)
        make_score(alice, "phq9", 15, now - timedelta(days=4), episode=episode)
        make_score(alice, "phq9", 9, now - timedelta(hours=2), episode=episode)
        make_score(alice, "gad7", 8, now - timedelta(days=20), episode=episode)
        make_score(alice, "gad7", 13, now - timedelta(hours=2), episode=episode)
        page = brief_page(login(sam), alice)
        assert "First 18, now 9:" in page and "reliable improvement" in page
        assert "At the last contact: 15." in page
        assert "First 8, now 13:" in page and "reliable deterioration" in page
        assert "Talk about what has been harder: the GAD-7 is reliably worse (8 → 13)." in page

    def test_it_shows_the_alliance_and_a_rupture(self, login, sam, alice, episode, last_contact):
        now = timezone.now()
        subscales = {"goal": 18, "task": 17, "bond": 19}
        make_score(
            alice,
            "wai-sr",
            54,
            now - timedelta(days=14),
            episode=episode,
            mean=4.5,
            subscales=subscales,
        )
        make_score(
            alice,
            "wai-sr",
            30,
            now - timedelta(days=1),
            episode=episode,
            mean=2.5,
            subscales={"goal": 10, "task": 10, "bond": 10},
        )
        page = brief_page(login(sam), alice)
        assert "Mean 2.5 of 5" in page and "Before: 4.5." in page
        assert "<dt>Bond</dt><dd>2.5</dd>" in page
        assert "a possible rupture, not repaired yet" in page
        assert "Check how the sessions are working for them" in page

    def test_it_shows_alerts_messages_and_homework(self, login, sam, alice, episode, last_contact):
        alert_raise(patient=alice, kind=AlertKind.RISK, cause="t", summary="PHQ-9 item 9 answered")
        send_message(alice, alice.user, "I had a rough night", timezone.now() - timedelta(hours=5))
        done = care_services.homework_add(episode=episode, text="Walk after lunch", actor=sam.user)
        care_services.homework_set_done(homework=done, done=True)
        care_services.homework_add(episode=episode, text="Call a friend", actor=sam.user)
        page = brief_page(login(sam), alice)
        assert "PHQ-9 item 9 answered" in page
        assert "I had a rough night" in page
        done_part, open_part = page.split("Not done yet")
        assert "Walk after lunch" in done_part.split("Homework")[-1]
        assert "Call a friend" in open_part
        assert page.index("Check safety first") < page.index("Review homework")

    def test_it_is_printable(self, login, sam, alice, episode, client):
        page = brief_page(login(sam), alice)
        assert "insights/support.css" in page
        assert "data-print hidden" in page and "insights/support-print.js" in page
        assert "<style" not in page and " style=" not in page
        response = client.get("/static/insights/support.css")
        css = b"".join(response.streaming_content).decode()
        assert "@media print" in css and ".site-header" in css

    def test_it_records_every_read_in_the_audit_log(self, login, sam, alice, episode):
        client = login(sam)
        brief_page(client, alice)
        brief_page(client, alice)
        reads = AuditEntry.objects.filter(patient=alice, what="pre-session brief", actor=sam.user)
        assert reads.count() == 2

    def test_it_is_for_the_care_team(self, login, nia, morgan, alice, episode):
        assert brief_page(login(nia), alice)
        assert brief_page(login(morgan), alice)

    def test_it_is_not_found_for_an_outsider_or_a_patient(
        self, login, priya, oscar, alice, bob, episode
    ):
        for outsider in (priya, oscar, bob):
            assert login(outsider).get(f"/patients/{alice.pk}/brief/").status_code == 404
        assert login(alice).get(f"/patients/{alice.pk}/brief/").status_code == 404
        assert not AuditEntry.objects.filter(what="pre-session brief").exists()

    def test_it_is_forbidden_to_staff_outside_care(self, login, ruth, tomasz, hana, ada, alice):
        # Managers see the patient but not the brief; researchers and authors see no
        # patient at all, so for them the page does not exist.
        for outsider in (ruth, ada):
            assert login(outsider).get(f"/patients/{alice.pk}/brief/").status_code == 403
        for outsider in (tomasz, hana):
            assert login(outsider).get(f"/patients/{alice.pk}/brief/").status_code == 404

    def test_it_asks_to_sign_in(self, client, alice):
        response = client.get(f"/patients/{alice.pk}/brief/")
        assert response.status_code == 302 and "/sign-in/" in response["Location"]

    def test_it_runs_a_fixed_number_of_queries(
        self, login, sam, alice, episode, django_assert_num_queries
    ):
        client = login(sam)
        make_history(alice, episode, weeks=2)
        client.get(f"/patients/{alice.pk}/brief/")
        with django_assert_num_queries(BRIEF_QUERIES, exact=False) as small:
            client.get(f"/patients/{alice.pk}/brief/")
        make_history(alice, episode, weeks=30, now=timezone.now() - timedelta(weeks=3))
        for n in range(10):
            care_services.homework_add(episode=episode, text=f"Task {n}", actor=sam.user)
        with django_assert_num_queries(len(small.captured_queries)):
            page = client.get(f"/patients/{alice.pk}/brief/").content.decode()
        assert "Task 9" in page


# At most: the session, user, two-factor device, staff profile (4); the patient and the
# audit entry of the read (5); the episode; the last and next contacts (2); modules;
# homework; exercises; check-ins; scores; the alliance (service, settings, ratings: 3);
# alerts; unanswered messages; the page's header (notification bell) and the session's
# save (3). The same number whatever the history.
BRIEF_QUERIES = 27


# --- The API ----------------------------------------------------------------------------------


class TestGetBrief:
    def test_it_answers_the_brief_with_its_agenda(self, login, sam, alice, episode, last_contact):
        make_entry(alice)
        make_score(alice, "phq9", 14, timezone.now() - timedelta(hours=3), episode=episode)
        body = login(sam).get(f"/api/v1/patients/{alice.pk}/brief").json()
        assert body["patient_id"] == alice.pk
        assert body["last_contact"]["id"] == last_contact.pk
        assert body["exercises"][0]["details"][0] == {
            "label": "Situation",
            "text": "Lunch with my sister",
        }
        assert body["measures"][0]["latest"] == 14
        assert body["unanswered_messages"] == []
        assert body["agenda"][-1] == "Agree the next steps and homework for next time."
        assert AuditEntry.objects.filter(patient=alice, what="pre-session brief").count() == 1

    def test_it_is_not_found_for_an_outsider(self, login, priya, oscar, alice, episode):
        for outsider in (priya, oscar):
            response = login(outsider).get(f"/api/v1/patients/{alice.pk}/brief")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"

    def test_it_is_forbidden_outside_the_care_team(self, login, tomasz, ruth, alice):
        for outsider, status in ((ruth, 403), (alice, 403), (tomasz, 404)):
            response = login(outsider).get(f"/api/v1/patients/{alice.pk}/brief")
            assert response.status_code == status

    def test_it_asks_to_sign_in(self, client, alice):
        assert client.get(f"/api/v1/patients/{alice.pk}/brief").status_code == 401


def test_a_dna_is_not_the_last_contact(login, sam, alice, episode, last_contact):
    Contact.objects.create(
        episode=episode,
        supporter=sam,
        kind="video",
        scheduled_at=timezone.now() - timedelta(days=1),
        status=ContactStatus.DID_NOT_ATTEND,
    )
    body = login(sam).get(f"/api/v1/patients/{alice.pk}/brief").json()
    assert body["last_contact"]["id"] == last_contact.pk


# --- The demo ----------------------------------------------------------------------------------


class TestDemo:
    def test_it_gives_the_demo_supporter_briefs_to_read_once(self, db):
        from django.core.management import call_command

        from alliance.accounts.models import Patient
        from alliance.checkins.models import ExerciseEntry
        from alliance.insights import demo_support
        from alliance.insights.brief import patient_brief
        from alliance.insights.caseload import optional

        call_command("demo")  # runs the support demo among the others
        assert optional("alliance.checkins.demo", "populate") is not None
        entries = ExerciseEntry.objects.count()
        assert entries > 0
        assert demo_support.populate() == 0
        assert ExerciseEntry.objects.count() == entries
        mine = Patient.objects.filter(
            supporter__user__email="supporter@demo.example", episodes__status="active"
        )
        briefs = [patient_brief(patient) for patient in mine]
        assert all(brief.exercises for brief in briefs)
        assert any(
            item.startswith("Go through the thought record") for b in briefs for item in b.agenda
        )
        assert sum(1 for brief in briefs if brief.rupture) == 1
