"""Writing messages, drafts, read marks, templates, settings and supporter-change requests."""

import sys
import types
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from alliance.audit.models import AuditEntry
from alliance.insights.models import Alert
from alliance.messaging import selectors, services
from alliance.messaging.models import (
    Draft,
    Message,
    MessageTemplate,
    MessagingSettings,
    SupporterChangeRequest,
    Thread,
)
from alliance.messaging.starter_templates import STARTER_TEMPLATES
from alliance.messaging.tests.conftest import MONDAY, send


def raw_body(message) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM messaging_message WHERE id = %s", [message.pk])
        return cursor.fetchone()[0]


class TestMessageSend:
    def test_it_stores_a_patients_message_encrypted_and_waits_for_a_reply(self, alice):
        message = send(alice, alice, "  I had a better week  ", now=MONDAY)
        assert message.body == "I had a better week"
        assert message.is_from_patient and not message.risk_flagged
        assert "better week" not in raw_body(message)
        thread = Thread.objects.get(patient=alice)
        assert thread.awaiting_reply_since == MONDAY
        assert thread.last_message_at == MONDAY

    def test_a_staff_reply_ends_the_wait_and_is_audited(self, alice, sam):
        send(alice, alice, "Question", now=MONDAY)
        reply = send(alice, sam, "Answer", now=MONDAY + timedelta(hours=3))
        assert not reply.is_from_patient
        assert Thread.objects.get(patient=alice).awaiting_reply_since is None
        entry = AuditEntry.objects.get(action="create", what="message")
        assert entry.actor == sam.user and entry.patient == alice
        assert entry.detail["message"] == reply.pk
        assert "Answer" not in str(entry.detail)

    def test_the_wait_starts_at_the_first_unanswered_message(self, alice, sam):
        send(alice, alice, "One", now=MONDAY)
        send(alice, alice, "Two", now=MONDAY + timedelta(days=1))
        assert Thread.objects.get(patient=alice).awaiting_reply_since == MONDAY

    def test_it_refuses_an_empty_message_naming_the_field(self, alice):
        for body in ("", "   \n "):
            with pytest.raises(ValidationError) as error:
                send(alice, alice, body)
            assert error.value.message_dict == {"body": ["Write a message."]}
        assert Message.objects.count() == 0 and Thread.objects.count() == 0

    def test_it_refuses_a_message_over_5000_characters(self, alice, sam):
        send(alice, alice, "first")
        with pytest.raises(ValidationError) as error:
            send(alice, sam, "x" * 5001)
        assert "5,000 characters" in error.value.message_dict["body"][0]
        assert Message.objects.count() == 1
        assert send(alice, sam, "x" * 5000).body == "x" * 5000

    @pytest.mark.parametrize("outsider", ["priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_staff_outside_the_team(self, request, alice, outsider):
        staff = request.getfixturevalue(outsider)
        with pytest.raises(Http404):
            send(alice, staff, "Hello")
        assert Message.objects.count() == 0 and Thread.objects.count() == 0

    def test_patients_write_only_in_their_own_thread(self, alice, bob):
        with pytest.raises(Http404):
            send(alice, bob, "Hello Alice")
        assert Message.objects.count() == 0

    @pytest.mark.parametrize("reader", ["ruth", "ada"])
    def test_staff_who_only_read_cannot_send(self, request, alice, reader):
        with pytest.raises(PermissionDenied):
            send(alice, request.getfixturevalue(reader), "Hello")
        assert Message.objects.count() == 0

    @pytest.mark.parametrize("member", ["sam", "morgan", "nia"])
    def test_the_care_team_can_send(self, request, alice, member):
        assert send(alice, request.getfixturevalue(member), "Hello").pk

    def test_a_retry_with_the_same_client_key_sends_once(self, alice):
        thread = selectors.thread_for(alice)
        first, created = services.message_send(
            thread=thread, author=alice.user, body="Hello", client_key="key-12345678"
        )
        again, created_again = services.message_send(
            thread=selectors.thread_for(alice),
            author=alice.user,
            body="Hello",
            client_key="key-12345678",
        )
        assert created and not created_again and again.pk == first.pk
        assert Message.objects.count() == 1

    def test_a_client_key_reused_for_other_text_is_refused(self, alice):
        send(alice, alice, "Hello", client_key="key-12345678")
        with pytest.raises(services.ClientKeyReused) as error:
            send(alice, alice, "Something else", client_key="key-12345678")
        assert "client_key" in error.value.message_dict
        assert Message.objects.count() == 1

    def test_it_refuses_a_malformed_client_key(self, alice):
        with pytest.raises(ValidationError) as error:
            send(alice, alice, "Hello", client_key="no spaces!")
        assert "client_key" in error.value.message_dict
        assert Message.objects.count() == 0

    def test_sending_removes_the_authors_draft(self, alice, sam):
        services.draft_save(thread=selectors.thread_for(alice), author=sam.user, body="Dear A")
        services.draft_save(thread=selectors.thread_for(alice), author=alice.user, body="Mine")
        send(alice, sam, "Dear Alice")
        assert list(Draft.objects.values_list("author", flat=True)) == [alice.user_id]


class TestRiskInMessages:
    def test_a_risk_phrase_flags_the_message_and_alerts_the_care_team(self, alice):
        message = send(alice, alice, "Some days I just want to end it all.")
        assert message.risk_flagged
        assert message.risk_phrases == ["end it all"]
        alert = Alert.objects.get(patient=alice)
        assert alert.kind == "risk" and alert.cause == f"message:{message.pk}"
        assert alert.state == "open" and alert.owner == alice.supporter
        assert "end it all" not in alert.summary  # the summary is not encrypted

    def test_it_sends_no_automatic_reply(self, alice):
        send(alice, alice, "I feel suicidal")
        assert list(Message.objects.values_list("is_from_patient", flat=True)) == [True]

    def test_the_services_own_list_is_used(self, alice, riverside):
        MessagingSettings.objects.create(service=riverside, risk_phrases=["lost all hope"])
        assert send(alice, alice, "I have lost all hope").risk_flagged
        assert not send(alice, alice, "I want to end it all").risk_flagged

    def test_staff_messages_are_not_checked(self, alice, sam):
        message = send(alice, sam, "If you ever feel suicidal, call 999.")
        assert not message.risk_flagged
        assert Alert.objects.count() == 0

    def test_ordinary_messages_raise_nothing(self, alice):
        assert not send(alice, alice, "Had a lovely walk").risk_flagged
        assert Alert.objects.count() == 0


class TestNotifyingThePatient:
    @pytest.fixture
    def notified(self, monkeypatch):
        calls = []
        stand_in = types.ModuleType("alliance.notify.services")
        stand_in.notify_event = lambda **kwargs: calls.append(kwargs)
        # The notify app is written concurrently; stand in for its function.
        monkeypatch.setitem(sys.modules, "alliance.notify.services", stand_in)
        return calls

    def test_a_staff_message_notifies_the_patient_without_its_text(
        self, alice, sam, notified, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            message = send(alice, sam, "Your private reply")
        assert len(notified) == 1
        call = notified[0]
        assert call["patient"] == alice and call["kind"] == "message"
        assert call["body"] == "You have a new message from your care team"
        assert call["url"] == "/messages/"
        assert call["dedupe_key"] == f"message:{message.pk}"
        assert "private" not in str(call)

    def test_a_patients_message_notifies_nobody(
        self, alice, notified, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            send(alice, alice, "Hello")
        assert notified == []

    def test_without_the_notify_app_sending_still_works(
        self, alice, sam, monkeypatch, django_capture_on_commit_callbacks
    ):
        monkeypatch.setitem(sys.modules, "alliance.notify.services", None)
        with django_capture_on_commit_callbacks(execute=True):
            assert send(alice, sam, "Hello").pk


class TestDraftSave:
    def test_it_keeps_one_encrypted_draft_per_author(self, alice, sam):
        thread = selectors.thread_for(alice)
        services.draft_save(thread=thread, author=sam.user, body="First go")
        draft = services.draft_save(
            thread=selectors.thread_for(alice), author=sam.user, body="Second go"
        )
        assert Draft.objects.get().body == "Second go" == draft.body
        assert Message.objects.count() == 0

    def test_empty_text_removes_the_draft(self, alice):
        services.draft_save(thread=selectors.thread_for(alice), author=alice.user, body="Hi")
        removed = services.draft_save(
            thread=selectors.thread_for(alice), author=alice.user, body=""
        )
        assert removed is None
        assert Draft.objects.count() == 0

    def test_it_refuses_an_oversized_draft_and_keeps_the_old_one(self, alice):
        services.draft_save(thread=selectors.thread_for(alice), author=alice.user, body="Hi")
        with pytest.raises(ValidationError) as error:
            services.draft_save(
                thread=selectors.thread_for(alice), author=alice.user, body="x" * 5001
            )
        assert "body" in error.value.message_dict
        assert Draft.objects.get().body == "Hi"

    def test_it_answers_not_found_to_an_outsider(self, alice, priya):
        with pytest.raises(Http404):
            services.draft_save(thread=selectors.thread_for(alice), author=priya.user, body="x")
        assert Draft.objects.count() == 0 and Thread.objects.count() == 0


class TestThreadMarkRead:
    def test_it_marks_everything_read_for_that_person_only(self, alice, sam, nia):
        send(alice, alice, "One", now=MONDAY)
        thread = selectors.thread_for(alice)
        assert selectors.unread_for_staff(thread, sam.user) == 1
        services.thread_mark_read(thread=thread, user=sam.user)
        assert selectors.unread_for_staff(thread, sam.user) == 0
        assert selectors.unread_for_staff(thread, nia.user) == 1

    def test_it_never_moves_the_mark_back(self, alice, sam):
        send(alice, alice, "One", now=MONDAY)
        thread = selectors.thread_for(alice)
        services.thread_mark_read(thread=thread, user=sam.user, at=MONDAY + timedelta(days=2))
        services.thread_mark_read(thread=thread, user=sam.user, at=MONDAY)
        assert selectors.unread_for_staff(thread, sam.user) == 0

    def test_it_does_nothing_without_a_thread(self, alice):
        services.thread_mark_read(thread=selectors.thread_for(alice), user=alice.user)
        assert Thread.objects.count() == 0


class TestNoReplyNeeded:
    def test_it_ends_the_wait_and_is_audited(self, alice, sam):
        send(alice, alice, "Thanks!", now=MONDAY)
        services.thread_mark_no_reply_needed(thread=selectors.thread_for(alice), actor=sam.user)
        assert Thread.objects.get().awaiting_reply_since is None
        assert selectors.unanswered_messages(alice).count() == 0
        entry = AuditEntry.objects.get(what="messages marked as needing no reply")
        assert entry.detail["old"] == MONDAY.isoformat() and entry.detail["new"] is None

    def test_the_patient_cannot_do_it(self, alice):
        send(alice, alice, "Hello")
        with pytest.raises(PermissionDenied):
            services.thread_mark_no_reply_needed(
                thread=selectors.thread_for(alice), actor=alice.user
            )
        assert Thread.objects.get().awaiting_reply_since is not None


class TestTemplates:
    def test_it_renders_placeholders_for_a_patient(self, alice, sam, riverside):
        template = services.template_save(
            service=riverside,
            actor=make_admin(riverside),
            title="Hello",
            body="Hi {patient_first_name}, it's {supporter_name} at {service_name}.",
        )
        context = selectors.template_context(alice, sam.user)
        assert services.template_render(template, context) == (
            "Hi Alice, it's Sam Supporter at Riverside."
        )

    def test_it_uses_the_current_module_title(self, alice, sam, episode):
        assert selectors.template_context(alice, sam.user)["module_title"] == "Module start"

    def test_it_refuses_unknown_placeholders_and_changes_nothing(self, riverside):
        admin = make_admin(riverside)
        with pytest.raises(ValidationError) as error:
            services.template_save(
                service=riverside, actor=admin, title="Oops", body="Hi {first_name}"
            )
        assert "{first_name} is not a placeholder" in error.value.message_dict["body"][0]
        assert error.value.message_dict["body"][0].startswith("Text:")
        assert MessageTemplate.objects.count() == 0

    def test_it_refuses_an_empty_title_or_a_repeated_one(self, riverside):
        admin = make_admin(riverside)
        services.template_save(service=riverside, actor=admin, title="Hello", body="Hi")
        for title in ("", "hello"):
            with pytest.raises(ValidationError) as error:
                services.template_save(service=riverside, actor=admin, title=title, body="Hi")
            assert "title" in error.value.message_dict
        assert MessageTemplate.objects.count() == 1

    def test_only_an_administrator_of_the_service_manages_templates(self, riverside, sam, hillside):
        with pytest.raises(PermissionDenied):
            services.template_save(service=riverside, actor=sam.user, title="T", body="B")
        with pytest.raises(PermissionDenied):
            services.template_save(
                service=riverside, actor=make_admin(hillside), title="T", body="B"
            )
        assert MessageTemplate.objects.count() == 0

    def test_the_starter_templates_load_once_and_are_valid(self, riverside):
        assert services.templates_load_starters(service=riverside) == len(STARTER_TEMPLATES)
        assert services.templates_load_starters(service=riverside) == 0
        assert len(STARTER_TEMPLATES) >= 10
        from alliance.messaging.placeholders import placeholder_problems

        for template in MessageTemplate.objects.all():
            assert placeholder_problems(template.body) == [], template.key
            assert len(template.body) <= 5000

    def test_loading_starters_again_keeps_edits_and_restores_deleted_ones(self, riverside):
        services.templates_load_starters(service=riverside)
        admin = make_admin(riverside)
        welcome = MessageTemplate.objects.get(key="welcome")
        services.template_save(
            service=riverside, actor=admin, title="Our welcome", body="Hi!", template=welcome
        )
        services.template_delete(template=MessageTemplate.objects.get(key="setback"), actor=admin)
        assert services.templates_load_starters(service=riverside) == 1
        assert MessageTemplate.objects.get(key="welcome").body == "Hi!"


def make_admin(service):
    from alliance.accounts.models import Role
    from alliance.conftest import make_staff

    return make_staff(service, Role.ADMINISTRATOR, f"Admin {service.slug}").user


class TestMessagingSettingsUpdate:
    def test_it_saves_the_target_and_phrases_and_audits_them(self, riverside, ada):
        services.messaging_settings_update(
            service=riverside,
            actor=ada.user,
            reply_target_working_days="3",
            risk_phrases="kill myself\n\n  Lost all HOPE \nkill-myself",
        )
        saved = MessagingSettings.objects.get(service=riverside)
        assert saved.reply_target_working_days == 3
        assert saved.risk_phrases == ["kill myself", "Lost all HOPE"]
        entry = AuditEntry.objects.get(what="messaging settings")
        assert entry.detail["old"]["reply_target_working_days"] == 2
        assert entry.detail["new"]["risk_phrases"] == ["kill myself", "Lost all HOPE"]

    @pytest.mark.parametrize(
        "target, phrases, field",
        [
            ("0", "suicide", "reply_target_working_days"),
            ("11", "suicide", "reply_target_working_days"),
            ("two", "suicide", "reply_target_working_days"),
            ("2", "", "risk_phrases"),
            ("2", "suicide\nod", "risk_phrases"),
        ],
    )
    def test_it_refuses_bad_values_and_changes_nothing(
        self, riverside, ada, target, phrases, field
    ):
        with pytest.raises(ValidationError) as error:
            services.messaging_settings_update(
                service=riverside,
                actor=ada.user,
                reply_target_working_days=target,
                risk_phrases=phrases,
            )
        assert list(error.value.message_dict) == [field]
        assert MessagingSettings.objects.count() == 0

    def test_only_an_administrator_changes_them(self, riverside, morgan):
        with pytest.raises(PermissionDenied):
            services.messaging_settings_update(
                service=riverside,
                actor=morgan.user,
                reply_target_working_days=3,
                risk_phrases="suicide",
            )


class TestSupporterChangeRequest:
    def test_the_patient_asks_once_while_it_is_open(self, alice, sam):
        change, created = services.supporter_change_request(
            patient=alice, actor=alice.user, reason="We don't get on"
        )
        again, created_again = services.supporter_change_request(
            patient=alice, actor=alice.user, reason="Still"
        )
        assert created and not created_again and again.pk == change.pk
        assert change.supporter == sam and change.status == "open"
        assert SupporterChangeRequest.objects.get().reason == "We don't get on"

    def test_only_the_patient_asks(self, alice, sam):
        with pytest.raises(PermissionDenied):
            services.supporter_change_request(patient=alice, actor=sam.user)
        assert SupporterChangeRequest.objects.count() == 0

    def test_it_refuses_a_reason_too_long(self, alice):
        with pytest.raises(ValidationError) as error:
            services.supporter_change_request(patient=alice, actor=alice.user, reason="x" * 2001)
        assert "reason" in error.value.message_dict
        assert SupporterChangeRequest.objects.count() == 0

    def test_a_supervisor_decides_and_changes_the_supporter(self, alice, sam, morgan, riverside):
        from alliance.accounts.models import Role
        from alliance.conftest import make_staff

        other = make_staff(riverside, Role.SUPPORTER, "Olu North", [alice.team])
        change, _created = services.supporter_change_request(patient=alice, actor=alice.user)
        services.supporter_change_decide(
            change_request=change, actor=morgan.user, note="Spoke to Alice", supporter=other
        )
        change.refresh_from_db()
        alice.refresh_from_db()
        assert change.status == "decided" and change.decided_by == morgan.user
        assert change.new_supporter == other and alice.supporter == other
        assert AuditEntry.objects.filter(what="named supporter").exists()
        assert AuditEntry.objects.filter(what="request for a different supporter").exists()
        # A new request can be made once the old one is decided.
        assert services.supporter_change_request(patient=alice, actor=alice.user)[1]

    def test_a_decision_needs_a_note_and_a_supporter_of_the_team(self, alice, morgan, priya):
        change, _created = services.supporter_change_request(patient=alice, actor=alice.user)
        with pytest.raises(ValidationError) as error:
            services.supporter_change_decide(
                change_request=change, actor=morgan.user, note="", supporter=priya
            )
        assert set(error.value.message_dict) == {"note", "supporter"}
        change.refresh_from_db()
        assert change.status == "open"

    @pytest.mark.parametrize("person", ["sam", "nia", "priya", "oscar"])
    def test_others_cannot_decide(self, request, alice, person):
        change, _created = services.supporter_change_request(patient=alice, actor=alice.user)
        with pytest.raises(Http404):
            services.supporter_change_decide(
                change_request=change, actor=request.getfixturevalue(person).user, note="No"
            )
        change.refresh_from_db()
        assert change.status == "open"
