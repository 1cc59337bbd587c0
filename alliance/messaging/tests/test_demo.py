"""The messaging demo: templates, conversations with each state, one request; idempotent."""

from django.core.management import call_command

from alliance.insights.models import Alert
from alliance.messaging import demo, selectors
from alliance.messaging.models import Message, MessageTemplate, SupporterChangeRequest, Thread
from alliance.messaging.starter_templates import STARTER_TEMPLATES


class TestDemo:
    def test_it_writes_conversations_in_every_state_once(self, db):
        call_command("demo")  # `alliance demo` writes the conversations itself
        assert demo.populate() == 0  # and a second run adds nothing
        sent = Message.objects.count()
        assert sent > 20
        assert MessageTemplate.objects.count() == len(STARTER_TEMPLATES)

        threads = {t.patient.user.email: t for t in Thread.objects.select_related("patient__user")}
        overdue = selectors.overdue_threads(Thread.objects.values("patient"), None)
        assert [t.patient.user.email for t in overdue] == ["patient04@demo.example"]
        waiting = [e for e, t in sorted(threads.items()) if t.awaiting_reply_since is not None]
        assert waiting == [
            "patient02@demo.example",
            "patient04@demo.example",
            "patient05@demo.example",
        ]
        flagged = Message.objects.get(risk_flagged=True)
        assert flagged.thread.patient.user.email == "patient05@demo.example"
        assert Alert.objects.filter(cause=f"message:{flagged.pk}", kind="risk").exists()
        amira = threads["patient01@demo.example"].patient
        assert selectors.unread_for_patient(amira).count() == 1
        assert SupporterChangeRequest.objects.get().patient.user.email == ("patient08@demo.example")
