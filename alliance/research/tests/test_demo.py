"""The research demo: a feedback study with two coders, agreement, consensus and themes."""

from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.accounts.models import User
from alliance.measures.models import Response
from alliance.research import demo, selectors
from alliance.research.models import (
    Coding,
    ConsensusCoding,
    ResearchConsent,
    ResearchDocument,
    ResearchProject,
)


class TestDemo:
    def test_it_builds_a_coded_study_once(self, db):
        call_command("demo")  # `alliance demo` builds the study itself
        assert demo.populate() == 0  # and a second run adds nothing
        stored = Response.objects.filter(instrument="feedback").count()
        assert stored >= 15
        answers = sum(len(r.text_answers) for r in Response.objects.filter(instrument="feedback"))
        assert answers >= 40

        project = ResearchProject.objects.get(title=demo.PROJECT_TITLE)
        assert project.status == "reconciliation"
        assert project.members.filter(staff__user__email=demo.CODER_EMAIL).exists()
        coders = set(Coding.objects.values_list("coder__email", flat=True))
        assert coders == {demo.LEAD_EMAIL, demo.CODER_EMAIL}

        found = selectors.project_agreement(project)
        assert found.report.overall.units == project.documents.count()
        assert 0.3 < found.report.overall.cohen_kappa < 1.0
        rows = selectors.disagreement_rows(project)
        undecided = [r for r in rows if r.decision is None]
        assert len(undecided) == demo.LEFT_TO_DECIDE and len(rows) > demo.LEFT_TO_DECIDE
        assert ConsensusCoding.objects.filter(unanimous=False).exists()
        assert ConsensusCoding.objects.filter(unanimous=True).exists()

        report = selectors.project_report(project)
        assert [s.theme.name for s in report.sections if s.theme] == [t[0] for t in demo.THEMES]
        warmth = next(r for s in report.sections for r in s.rows if r.code.name == "Warmth")
        assert warmth.responses > 0 and warmth.quotes

        before = demo.summary()
        assert demo.populate() == 0
        assert demo.summary() == before

    def test_it_pseudonymises_keeps_refusers_out_and_adds_a_coder(self, db):
        call_command("demo")
        demo.populate()
        texts = " ".join(d.text for d in ResearchDocument.objects.all())
        assert "[NAME]" in texts and "[PHONE]" in texts and "[EMAIL]" in texts
        assert "07700 900456" not in texts and "Sam " not in texts
        refused = ResearchDocument.objects.exclude(
            participant__patient__in=ResearchConsent.objects.values("patient")
        )
        assert not refused.exists()
        sixth = User.objects.get(email="patient06@demo.example").patient
        assert not ResearchConsent.objects.filter(patient=sixth).exists()

        # The second researcher signs in like the other demo staff.
        user = User.objects.get(email=demo.CODER_EMAIL)
        assert user.check_password("alliance-demo-2026")
        assert user.staff_profile.role == "researcher"
        assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
