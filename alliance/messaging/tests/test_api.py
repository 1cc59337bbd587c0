"""The messaging operations of the API: threads, messages, read marks, templates, and the
patient's request for a different supporter."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.insights.models import Alert
from alliance.messaging import selectors
from alliance.messaging.models import Message, MessageTemplate, SupporterChangeRequest, Thread
from alliance.messaging.tests.conftest import send

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def messages_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/messages"


class TestOperationNames:
    def test_each_operation_is_named_as_a_verb(self, alice):
        assert reverse("api:list_threads") == "/api/v1/threads"
        assert reverse("api:list_messages", args=[alice.pk]) == messages_url(alice)
        assert reverse("api:send_message", args=[alice.pk]) == messages_url(alice)
        assert reverse("api:mark_thread_read", args=[alice.pk]) == messages_url(alice) + "/read"
        assert reverse("api:list_message_templates") == "/api/v1/message-templates"
        assert reverse("api:request_supporter_change") == "/api/v1/me/supporter-change"


class TestListThreads:
    def test_staff_see_their_patients_threads_with_flags(self, login, alice, bob, sam):
        send(alice, alice, "I want to end it all", now=timezone.now() - timedelta(days=9))
        send(bob, bob, "South")
        body = login(sam).get("/api/v1/threads").json()
        assert [t["patient_id"] for t in body] == [alice.pk]
        thread = body[0]
        assert thread["overdue"] is True and thread["risk"] is True and thread["unread"] == 1
        assert thread["patient_name"] == "Alice Patient"
        assert thread["reply_due_at"] is not None

    def test_the_patient_sees_their_own_thread(self, login, alice, sam, bob):
        send(alice, sam, "Hello")
        send(bob, bob, "Bob's")
        body = login(alice).get("/api/v1/threads").json()
        assert len(body) == 1 and body[0]["unread"] == 1 and body[0]["risk"] is None

    def test_it_filters_threads_waiting_for_a_reply(self, login, alice, sam, riverside, north):
        from alliance.conftest import make_patient

        eve = make_patient(riverside, north, "Eve Answered", supporter=sam)
        send(alice, alice, "Q")
        send(eve, sam, "Hello")
        body = login(sam).get("/api/v1/threads?waiting=true").json()
        assert [t["patient_id"] for t in body] == [alice.pk]

    def test_outsiders_see_nothing(self, login, alice, oscar, tomasz):
        send(alice, alice, "Q")
        for persona in (oscar, tomasz):
            assert login(persona).get("/api/v1/threads").json() == []

    def test_it_needs_a_sign_in(self, client, db):
        assert client.get("/api/v1/threads").status_code == 401


class TestListMessages:
    @pytest.mark.parametrize("reader", ["alice", "sam", "morgan", "nia", "ruth"])
    def test_the_patient_and_their_care_team_read_the_thread(self, request, login, alice, reader):
        send(alice, alice, "Hello")
        body = login(request.getfixturevalue(reader)).get(messages_url(alice)).json()
        assert [m["body"] for m in body] == ["Hello"]
        assert body[0]["is_from_patient"] is True

    def test_staff_reads_are_audited_and_show_risk_flags(self, login, alice, sam):
        send(alice, alice, "I feel suicidal")
        body = login(sam).get(messages_url(alice)).json()
        assert body[0]["risk_flagged"] is True
        assert AuditEntry.objects.filter(action="read", what="messages", actor=sam.user).exists()

    def test_the_patient_does_not_see_risk_flags(self, login, alice):
        send(alice, alice, "I feel suicidal")
        assert login(alice).get(messages_url(alice)).json()[0]["risk_flagged"] is None

    @pytest.mark.parametrize("outsider", ["bob", "priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, outsider):
        send(alice, alice, "Private")
        response = login(request.getfixturevalue(outsider)).get(messages_url(alice))
        assert response.status_code == 404 and response.json() == NOT_FOUND

    def test_it_pages_backwards(self, login, alice, sam):
        start = timezone.now() - timedelta(days=1)
        sent = [send(alice, sam, f"M{n}", now=start + timedelta(minutes=n)) for n in range(5)]
        client = login(alice)
        newest = client.get(messages_url(alice) + "?limit=2").json()
        assert [m["body"] for m in newest] == ["M3", "M4"]
        older = client.get(messages_url(alice) + f"?limit=2&before={sent[3].pk}").json()
        assert [m["body"] for m in older] == ["M1", "M2"]


class TestSendMessage:
    def test_the_patient_sends_and_a_retry_sends_nothing_twice(self, login, alice):
        client = login(alice)
        payload = {"body": "Hello team", "client_key": "client-key-0001"}
        first = post_json(client, messages_url(alice), payload)
        again = post_json(client, messages_url(alice), payload)
        assert first.status_code == 201 and again.status_code == 200
        assert first.json()["id"] == again.json()["id"]
        assert first.json()["crisis_information"] is None
        assert Message.objects.count() == 1

    def test_a_key_reused_for_other_text_is_a_conflict(self, login, alice):
        client = login(alice)
        post_json(client, messages_url(alice), {"body": "One", "client_key": "client-key-0001"})
        response = post_json(
            client, messages_url(alice), {"body": "Two", "client_key": "client-key-0001"}
        )
        assert response.status_code == 409
        assert "client_key" in response.json()["error"]["fields"]
        assert Message.objects.count() == 1

    def test_risk_language_returns_the_crisis_information(self, login, alice):
        response = post_json(login(alice), messages_url(alice), {"body": "I want to die"})
        assert response.status_code == 201
        assert "116 123" in response.json()["crisis_information"]
        assert Alert.objects.filter(patient=alice, kind="risk").exists()

    @pytest.mark.parametrize("member", ["sam", "morgan", "nia"])
    def test_the_care_team_sends(self, request, login, alice, member):
        response = post_json(
            login(request.getfixturevalue(member)), messages_url(alice), {"body": "Hi"}
        )
        assert response.status_code == 201
        assert response.json()["is_from_patient"] is False

    def test_an_empty_message_is_refused_naming_the_field(self, login, alice):
        response = post_json(login(alice), messages_url(alice), {"body": "  "})
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"body": ["Write a message."]}
        assert Message.objects.count() == 0 and Thread.objects.count() == 0

    def test_a_missing_body_is_refused_naming_the_field(self, login, alice):
        response = post_json(login(alice), messages_url(alice), {})
        assert response.status_code == 422
        assert "body" in response.json()["error"]["fields"]
        assert Message.objects.count() == 0

    def test_an_oversized_message_is_refused_naming_the_field(self, login, alice, sam):
        response = post_json(login(sam), messages_url(alice), {"body": "x" * 5001})
        assert response.status_code == 422
        assert "5,000" in response.json()["error"]["fields"]["body"][0]
        assert Message.objects.count() == 0

    @pytest.mark.parametrize("outsider", ["bob", "priya", "oscar", "tomasz"])
    def test_a_message_to_a_patient_outside_ones_teams_stores_nothing(
        self, request, login, alice, outsider
    ):
        response = post_json(
            login(request.getfixturevalue(outsider)), messages_url(alice), {"body": "Hi"}
        )
        assert response.status_code == 404 and response.json() == NOT_FOUND
        assert Message.objects.count() == 0 and Thread.objects.count() == 0

    def test_a_reader_may_not_send(self, login, alice, ruth):
        response = post_json(login(ruth), messages_url(alice), {"body": "Hi"})
        assert response.status_code == 403
        assert Message.objects.count() == 0


class TestMarkThreadRead:
    def test_it_marks_the_thread_read_for_the_caller(self, login, alice, sam):
        send(alice, sam, "One")
        response = login(alice).post(messages_url(alice) + "/read")
        assert response.status_code == 200 and response.json()["unread"] == 0
        assert selectors.unread_for_patient(alice).count() == 0

    def test_it_answers_not_found_to_outsiders(self, login, alice, priya):
        send(alice, alice, "One")
        assert login(priya).post(messages_url(alice) + "/read").status_code == 404
        assert selectors.unread_for_staff(selectors.thread_for(alice), priya.user) == 1


class TestListMessageTemplates:
    def test_the_care_team_gets_templates_filled_in_for_a_patient(
        self, login, alice, sam, riverside, hillside
    ):
        MessageTemplate.objects.create(
            service=riverside, title="Hi", body="Hi {patient_first_name}"
        )
        MessageTemplate.objects.create(service=hillside, title="Other", body="Other service")
        client = login(sam)
        assert client.get("/api/v1/message-templates").json() == [
            {
                "id": MessageTemplate.objects.get(title="Hi").pk,
                "title": "Hi",
                "body": "Hi {patient_first_name}",
                "rendered": None,
            }
        ]
        body = client.get(f"/api/v1/message-templates?patient_id={alice.pk}").json()
        assert body[0]["rendered"] == "Hi Alice"

    def test_a_patient_outside_ones_teams_is_not_found(self, login, alice, priya, riverside):
        MessageTemplate.objects.create(service=riverside, title="Hi", body="Hi")
        response = login(priya).get(f"/api/v1/message-templates?patient_id={alice.pk}")
        assert response.status_code == 404

    @pytest.mark.parametrize("persona", ["alice", "tomasz", "hana", "ruth"])
    def test_it_is_for_the_care_team(self, request, login, persona):
        response = login(request.getfixturevalue(persona)).get("/api/v1/message-templates")
        assert response.status_code == 403


class TestRequestSupporterChange:
    def test_the_patient_asks_once(self, login, alice):
        client = login(alice)
        first = post_json(client, "/api/v1/me/supporter-change", {"reason": "Evenings only"})
        again = post_json(client, "/api/v1/me/supporter-change", {})
        assert first.status_code == 201 and again.status_code == 200
        assert first.json()["id"] == again.json()["id"] and first.json()["status"] == "open"
        assert SupporterChangeRequest.objects.get().reason == "Evenings only"

    def test_a_reason_too_long_is_refused_naming_the_field(self, login, alice):
        response = post_json(login(alice), "/api/v1/me/supporter-change", {"reason": "x" * 2001})
        assert response.status_code == 422
        assert "reason" in response.json()["error"]["fields"]
        assert SupporterChangeRequest.objects.count() == 0

    def test_staff_cannot_ask(self, login, sam):
        response = post_json(login(sam), "/api/v1/me/supporter-change", {"reason": "x"})
        assert response.status_code == 403
        assert SupporterChangeRequest.objects.count() == 0
