"""The messaging pages: the patient's messages and request for a different supporter, the
care team's thread and inbox, and the administrator's settings and templates."""

import re
from datetime import timedelta

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.conftest import has_inline_script
from alliance.insights.models import Alert
from alliance.messaging import selectors
from alliance.messaging.models import (
    Draft,
    Message,
    MessageTemplate,
    MessagingSettings,
    SupporterChangeRequest,
    Thread,
)
from alliance.messaging.tests.conftest import send

MY = "/messages/"


def thread_url(patient) -> str:
    return f"/messages/patients/{patient.pk}/"


def page_of(response) -> str:
    return response.content.decode()


def textarea(page: str, name: str = "body") -> str:
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    return match.group(1).strip() if match else None


def queries_of(client, url: str) -> int:
    """How many queries one GET runs. The log is emptied first: a request empties it when
    it starts, which would hide queries from a capture begun on a non-empty log."""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def assert_csp_clean(page: str) -> None:
    assert not has_inline_script(page)
    assert "style=" not in page and "<style" not in page


class TestMyThreadPage:
    def test_it_shows_the_thread_and_marks_it_read(self, login, alice, sam):
        send(alice, sam, "How was your week?")
        response = login(alice).get(MY)
        page = page_of(response)
        assert response.status_code == 200
        assert "How was your week?" in page
        assert "Sam Supporter" in page
        assert "messaging/messaging.css" in page
        assert_csp_clean(page)
        assert selectors.unread_for_patient(alice).count() == 0

    def test_it_sends_a_message(self, login, alice):
        response = login(alice).post(
            MY, {"body": "I did the activity plan", "client_key": "k" * 32, "action": "send"}
        )
        assert response.status_code == 302
        assert response["Location"] == "/messages/#latest"
        assert Message.objects.get().body == "I did the activity plan"

    def test_a_double_submit_sends_once(self, login, alice):
        client = login(alice)
        for _ in range(2):
            client.post(MY, {"body": "Hello", "client_key": "k" * 32, "action": "send"})
        assert Message.objects.count() == 1

    def test_a_key_reused_for_other_text_keeps_the_text_and_sends_nothing(self, login, alice):
        client = login(alice)
        client.post(MY, {"body": "First", "client_key": "k" * 32})
        response = client.post(MY, {"body": "Second", "client_key": "k" * 32})
        page = page_of(response)
        assert response.status_code == 409
        assert "already sent once, with a different text" in page
        assert textarea(page) == "Second"
        assert 'value="' + "k" * 32 + '"' not in page  # a fresh key to send it with
        assert list(Message.objects.values_list("body", flat=True)) == ["First"]

    def test_it_refuses_an_empty_message_naming_the_field(self, login, alice):
        response = login(alice).post(MY, {"body": "  ", "client_key": "k" * 32})
        page = page_of(response)
        assert response.status_code == 400
        assert "There is a problem" in page
        assert "Your message: Write a message." in page
        assert page.count("Write a message.") == 2  # the summary and the field, once each
        assert 'Your message <span class="optional">' not in page  # it is required
        assert Message.objects.count() == 0 and Thread.objects.count() == 0

    def test_it_refuses_an_oversized_message_and_keeps_the_text(self, login, alice):
        long_text = "word " * 1001
        response = login(alice).post(MY, {"body": long_text, "client_key": "k" * 32})
        page = page_of(response)
        assert response.status_code == 400
        assert "Your message: Message: keep it to 5,000 characters or fewer" in page
        assert textarea(page) == long_text.strip()
        assert Message.objects.count() == 0

    def test_it_saves_a_draft_and_shows_it_again(self, login, alice):
        client = login(alice)
        response = client.post(MY, {"body": "Half a thought", "action": "draft"})
        assert response.status_code == 302
        assert Draft.objects.get().body == "Half a thought"
        assert Message.objects.count() == 0
        assert textarea(page_of(client.get(MY))) == "Half a thought"

    def test_it_shows_crisis_information_at_once_after_a_flagged_message(
        self, login, alice, riverside
    ):
        riverside.crisis_info = "Call the Riverside crisis line on 0800 000 000."
        riverside.save()
        response = login(alice).post(
            MY,
            {"body": "I keep thinking about ending my life", "client_key": "k" * 32},
            follow=True,
        )
        page = page_of(response)
        assert "Please look after yourself now" in page
        assert "0800 000 000" in page
        assert 'role="alert"' in page
        assert Alert.objects.filter(patient=alice, kind="risk").count() == 1

    def test_it_shows_the_default_crisis_information_without_a_services_own(
        self, login, alice, settings
    ):
        send(alice, alice, "I want to kill myself")
        page = page_of(login(alice).get(MY))
        assert "116 123" in page and "Please look after yourself now" in page

    def test_the_crisis_information_goes_once_the_care_team_replies(self, login, alice, sam):
        send(alice, alice, "I want to kill myself")
        send(alice, sam, "I'm calling you now.")
        assert "Please look after yourself now" not in page_of(login(alice).get(MY))

    def test_it_says_when_to_expect_a_reply(self, login, alice):
        page = page_of(login(alice).get(MY))
        assert "Your care team replies within 2 working days (Monday to Friday)" in page
        send(alice, alice, "Question")
        page = page_of(login(alice).get(MY))
        assert "Your care team will reply by the end of" in page

    def test_it_says_when_a_reply_is_late(self, login, alice):
        send(alice, alice, "Question", now=timezone.now() - timedelta(days=9))
        page = page_of(login(alice).get(MY))
        assert "Your reply is taking longer than usual" in page

    def test_it_links_to_ask_for_a_different_supporter(self, login, alice):
        assert 'href="/messages/supporter-change/"' in page_of(login(alice).get(MY))

    def test_it_shows_earlier_messages_on_request(self, login, alice, sam):
        start = timezone.now() - timedelta(days=30)
        for n in range(55):
            send(alice, sam, f"Message number {n:02d}.", now=start + timedelta(hours=n))
        client = login(alice)
        page = page_of(client.get(MY))
        assert "Message number 54." in page and "Message number 04." not in page
        earlier = re.search(r'href="\?before=(\d+)"', page).group(1)
        older = page_of(client.get(f"{MY}?before={earlier}"))
        assert "Message number 04." in older and "Message number 54." not in older

    def test_it_sends_staff_to_their_inbox_and_strangers_to_sign_in(self, login, sam, client):
        assert client.get(MY)["Location"].startswith("/sign-in/")
        assert login(sam).get(MY)["Location"] == "/messages/inbox/"

    def test_it_runs_a_fixed_number_of_queries(self, login, alice, sam, django_assert_num_queries):
        client = login(alice)
        send(alice, sam, "First")
        send(alice, alice, "Reply")
        client.get(MY)
        small = queries_of(client, MY)
        for n in range(30):
            send(alice, sam if n % 2 else alice, f"Message {n}")
        reset_queries()
        with django_assert_num_queries(small):
            client.get(MY)


class TestPatientThreadPage:
    @pytest.mark.parametrize("member", ["sam", "morgan", "nia"])
    def test_the_care_team_reads_and_can_reply(self, request, login, alice, member):
        send(alice, alice, "Hello team")
        page = page_of(login(request.getfixturevalue(member)).get(thread_url(alice)))
        assert "Hello team" in page
        assert 'name="body"' in page and 'value="send"' in page
        assert_csp_clean(page)

    @pytest.mark.parametrize("reader", ["ruth", "ada"])
    def test_managers_read_without_replying(self, request, login, alice, reader):
        send(alice, alice, "Hello team")
        page = page_of(login(request.getfixturevalue(reader)).get(thread_url(alice)))
        assert "Hello team" in page and 'name="body"' not in page

    @pytest.mark.parametrize("outsider", ["priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, outsider):
        send(alice, alice, "Private")
        response = login(request.getfixturevalue(outsider)).get(thread_url(alice))
        assert response.status_code == 404
        assert "Private" not in page_of(response)

    def test_it_answers_not_found_to_a_patient(self, login, alice):
        assert login(alice).get(thread_url(alice)).status_code == 404

    def test_opening_it_is_audited(self, login, alice, sam):
        login(sam).get(thread_url(alice))
        entry = AuditEntry.objects.get(action="read", what="messages")
        assert entry.actor == sam.user and entry.patient == alice

    def test_the_supporter_replies(self, login, alice, sam):
        send(alice, alice, "Question")
        response = login(sam).post(
            thread_url(alice), {"body": "Answer", "client_key": "k" * 32, "action": "send"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"{thread_url(alice)}#latest"
        assert Message.objects.filter(is_from_patient=False).get().body == "Answer"
        assert Thread.objects.get().awaiting_reply_since is None

    def test_a_key_reused_for_other_text_keeps_the_reply(self, login, alice, sam):
        client = login(sam)
        client.post(thread_url(alice), {"body": "First", "client_key": "k" * 32})
        response = client.post(thread_url(alice), {"body": "Second", "client_key": "k" * 32})
        assert response.status_code == 409
        assert textarea(page_of(response)) == "Second"
        assert Message.objects.count() == 1

    def test_it_refuses_an_empty_reply_naming_the_field(self, login, alice, sam):
        send(alice, alice, "Question")
        response = login(sam).post(thread_url(alice), {"body": "", "action": "send"})
        assert response.status_code == 400
        assert "Your reply: Write a message." in page_of(response)
        assert Message.objects.count() == 1

    def test_a_reply_to_a_patient_outside_the_team_stores_nothing(self, login, alice, priya):
        response = login(priya).post(thread_url(alice), {"body": "Hi", "action": "send"})
        assert response.status_code == 404
        assert Message.objects.count() == 0 and Thread.objects.count() == 0

    def test_a_reader_cannot_reply(self, login, alice, ruth):
        response = login(ruth).post(thread_url(alice), {"body": "Hi", "action": "send"})
        assert response.status_code == 403
        assert Message.objects.count() == 0

    def test_a_template_fills_the_reply_box_for_this_patient(self, login, alice, sam, riverside):
        template = MessageTemplate.objects.create(
            service=riverside, title="Hello", body="Hi {patient_first_name}, {supporter_name}"
        )
        page = page_of(login(sam).get(f"{thread_url(alice)}?template={template.pk}"))
        assert textarea(page) == "Hi Alice, Sam Supporter"
        assert '<form method="get"' in page and "Use this template" in page

    def test_a_template_of_another_service_is_not_offered(self, login, alice, sam, hillside):
        other = MessageTemplate.objects.create(service=hillside, title="Other", body="Secret")
        page = page_of(login(sam).get(f"{thread_url(alice)}?template={other.pk}"))
        assert "Secret" not in page

    def test_the_draft_comes_back(self, login, alice, sam):
        client = login(sam)
        client.post(thread_url(alice), {"body": "Dear Alice,", "action": "draft"})
        assert textarea(page_of(client.get(thread_url(alice)))) == "Dear Alice,"

    def test_it_marks_the_thread_read(self, login, alice, sam):
        send(alice, alice, "One")
        client = login(sam)
        assert "Mark 1 unread message as read" in page_of(client.get(thread_url(alice)))
        client.post(thread_url(alice), {"action": "read"})
        thread = selectors.thread_for(alice)
        assert selectors.unread_for_staff(thread, sam.user) == 0

    def test_it_marks_that_no_reply_is_needed(self, login, alice, sam):
        send(alice, alice, "Thanks!")
        login(sam).post(thread_url(alice), {"action": "no_reply"})
        assert Thread.objects.get().awaiting_reply_since is None

    def test_it_shows_risk_language_to_the_care_team(self, login, alice, sam):
        send(alice, alice, "I have been self-harming")
        page = page_of(login(sam).get(thread_url(alice)))
        assert "A message waiting for a reply uses risk language." in page
        assert "Matched: self harm" in page

    def test_it_runs_a_fixed_number_of_queries(
        self, login, alice, sam, riverside, django_assert_num_queries
    ):
        MessageTemplate.objects.create(service=riverside, title="T", body="B")
        send(alice, alice, "First")
        client = login(sam)
        client.get(thread_url(alice))
        small = queries_of(client, thread_url(alice))
        for n in range(30):
            send(alice, sam if n % 2 else alice, f"Message {n}")
            MessageTemplate.objects.create(service=riverside, title=f"T{n}", body="B")
        reset_queries()
        with django_assert_num_queries(small):
            client.get(thread_url(alice))


class TestInboxPage:
    def test_it_lists_threads_waiting_longest_first_with_flags(
        self, login, alice, sam, riverside, north, bob
    ):
        from alliance.conftest import make_patient

        dora = make_patient(riverside, north, "Dora Waiting", supporter=sam)
        eve = make_patient(riverside, north, "Eve Answered", supporter=sam)
        now = timezone.now()
        send(alice, alice, "Recent", now=now - timedelta(hours=1))
        send(dora, dora, "I want to end it all", now=now - timedelta(days=8))
        send(eve, eve, "Q", now=now - timedelta(days=3))
        send(eve, sam, "A", now=now - timedelta(days=2))
        send(bob, bob, "South team")
        page = page_of(login(sam).get("/messages/inbox/"))
        assert page.index("Dora Waiting") < page.index("Alice Patient") < page.index("Eve Answered")
        assert "Bob" not in page
        assert "Overdue" in page and "Risk language" in page and "Unanswered" in page
        assert_csp_clean(page)

    def test_it_filters_threads_waiting_for_a_reply(self, login, alice, sam, riverside, north):
        from alliance.conftest import make_patient

        eve = make_patient(riverside, north, "Eve Answered", supporter=sam)
        send(alice, alice, "Q")
        send(eve, eve, "Q")
        send(eve, sam, "A")
        page = page_of(login(sam).get("/messages/inbox/?show=waiting"))
        assert "Alice Patient" in page and "Eve Answered" not in page

    @pytest.mark.parametrize("persona", ["alice", "tomasz", "hana"])
    def test_it_is_for_staff_who_care_for_patients(self, request, login, persona):
        assert login(request.getfixturevalue(persona)).get("/messages/inbox/").status_code == 403

    def test_it_runs_a_fixed_number_of_queries(
        self, login, sam, riverside, north, django_assert_num_queries
    ):
        from alliance.conftest import make_patient

        def add_patients(start, count):
            for n in range(start, start + count):
                patient = make_patient(riverside, north, f"P{n} Person", supporter=sam)
                send(patient, patient, "Q", now=timezone.now() - timedelta(days=n % 9))

        add_patients(0, 2)
        client = login(sam)
        client.get("/messages/inbox/")
        small = queries_of(client, "/messages/inbox/")
        add_patients(2, 25)
        reset_queries()
        with django_assert_num_queries(small):
            page = page_of(client.get("/messages/inbox/"))
        assert page.count("/messages/patients/") == 27


class TestSupporterChangePages:
    def test_the_patient_asks_for_a_different_supporter(self, login, alice, sam):
        client = login(alice)
        page = page_of(client.get("/messages/supporter-change/"))
        assert "Your supporter now is Sam Supporter" in page
        assert_csp_clean(page)
        response = client.post("/messages/supporter-change/", {"reason": "Different times"})
        assert response.status_code == 302
        change = SupporterChangeRequest.objects.get()
        assert change.reason == "Different times" and change.supporter == sam
        assert "You asked for a different supporter on" in page_of(
            client.get("/messages/supporter-change/")
        )

    def test_a_reason_too_long_is_refused_naming_the_field(self, login, alice):
        response = login(alice).post("/messages/supporter-change/", {"reason": "x" * 2001})
        assert response.status_code == 400
        assert "Would you like to tell us why?: Reason: keep it to 2,000" in page_of(response)
        assert SupporterChangeRequest.objects.count() == 0

    def test_it_is_for_patients_only(self, login, sam):
        assert login(sam).get("/messages/supporter-change/").status_code == 404


class TestSettingsPage:
    def test_the_administrator_sees_and_saves_the_settings(self, login, ada, riverside):
        client = login(ada)
        page = page_of(client.get("/messages/settings/"))
        assert "kill myself" in textarea(page, "risk_phrases")
        assert "How risk phrases are matched, and their limits" in page
        assert_csp_clean(page)
        response = client.post(
            "/messages/settings/",
            {"reply_target_working_days": "3", "risk_phrases": "suicide\nlost all hope"},
        )
        assert response.status_code == 302
        saved = MessagingSettings.objects.get(service=riverside)
        assert saved.reply_target_working_days == 3
        assert saved.risk_phrases == ["suicide", "lost all hope"]

    def test_it_restores_the_default_phrases(self, login, ada, riverside):
        MessagingSettings.objects.create(service=riverside, risk_phrases=["suicide"])
        login(ada).post(
            "/messages/settings/",
            {"reply_target_working_days": "2", "risk_phrases": "", "action": "defaults"},
        )
        assert "kill myself" in MessagingSettings.objects.get().risk_phrases

    def test_it_refuses_a_bad_target_naming_the_field(self, login, ada):
        response = login(ada).post(
            "/messages/settings/", {"reply_target_working_days": "0", "risk_phrases": "suicide"}
        )
        assert response.status_code == 400
        assert "Reply target, in working days: Reply target: enter a whole number" in page_of(
            response
        )
        assert MessagingSettings.objects.count() == 0

    @pytest.mark.parametrize("persona", ["sam", "morgan", "ruth", "alice"])
    def test_it_is_for_administrators(self, request, login, persona):
        client = login(request.getfixturevalue(persona))
        assert client.get("/messages/settings/").status_code == 403
        response = client.post(
            "/messages/settings/", {"reply_target_working_days": "5", "risk_phrases": "x y z"}
        )
        assert response.status_code == 403
        assert MessagingSettings.objects.count() == 0


class TestTemplatePages:
    def test_the_administrator_adds_edits_and_deletes_templates(self, login, ada, riverside):
        client = login(ada)
        response = client.post(
            "/messages/templates/", {"title": "Hello", "body": "Hi {patient_first_name}"}
        )
        assert response.status_code == 302
        template = MessageTemplate.objects.get()
        page = page_of(client.get("/messages/templates/"))
        assert "Hello" in page and "{patient_first_name}" in page
        assert_csp_clean(page)
        client.post(f"/messages/templates/{template.pk}/", {"title": "Hi", "body": "Hello!"})
        template.refresh_from_db()
        assert template.title == "Hi" and template.body == "Hello!"
        client.post(f"/messages/templates/{template.pk}/delete/")
        assert MessageTemplate.objects.count() == 0

    def test_it_refuses_an_unknown_placeholder_naming_the_field(self, login, ada):
        response = login(ada).post(
            "/messages/templates/", {"title": "Oops", "body": "Hi {first_name}"}
        )
        assert response.status_code == 400
        assert "Text: Text: {first_name} is not a placeholder" in page_of(response)
        assert MessageTemplate.objects.count() == 0

    def test_it_adds_the_starter_templates(self, login, ada):
        login(ada).post("/messages/templates/", {"action": "starters"})
        assert MessageTemplate.objects.filter(key="welcome").exists()

    @pytest.mark.parametrize("persona", ["sam", "morgan", "ruth", "alice"])
    def test_it_is_for_administrators(self, request, login, riverside, persona):
        template = MessageTemplate.objects.create(service=riverside, title="T", body="B")
        client = login(request.getfixturevalue(persona))
        assert client.get("/messages/templates/").status_code == 403
        assert client.get(f"/messages/templates/{template.pk}/").status_code == 403
        assert client.post(f"/messages/templates/{template.pk}/delete/").status_code == 403
        assert MessageTemplate.objects.count() == 1

    def test_another_services_template_is_not_found(self, login, hillside, riverside):
        from alliance.accounts.models import Role
        from alliance.conftest import make_staff

        template = MessageTemplate.objects.create(service=riverside, title="T", body="B")
        hill_admin = make_staff(hillside, Role.ADMINISTRATOR, "Hilda Admin")
        client = login(hill_admin)
        assert client.get(f"/messages/templates/{template.pk}/").status_code == 404
        assert client.post(f"/messages/templates/{template.pk}/delete/").status_code == 404
        assert MessageTemplate.objects.count() == 1


class TestWeekCard:
    def test_it_shows_unread_messages_and_when_to_expect_a_reply(self, login, alice, sam):
        send(alice, sam, "Hello")
        page = page_of(login(alice).get("/my/"))
        assert "You have 1 new message from your care team." in page
        assert 'href="/messages/"' in page and "Read your messages" in page
        send(alice, alice, "Question")
        page = page_of(login(alice).get("/my/"))
        assert "You will have a reply by the end of" in page

    def test_it_invites_a_first_message(self, login, alice):
        page = page_of(login(alice).get("/my/"))
        assert "they reply within 2 working days" in page
