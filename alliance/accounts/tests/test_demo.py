"""`alliance demo`: every role, 30 patients, enrolled in real programmes; idempotent."""

from django.core.management import call_command

from alliance.accounts.models import Patient, Role, StaffProfile
from alliance.care.models import Episode
from alliance.care.selectors import plan_rows


class TestDemoCommand:
    def test_it_creates_every_role_and_thirty_patients_once(self, db):
        call_command("demo")
        call_command("demo")
        roles = set(StaffProfile.objects.values_list("role", flat=True))
        assert roles == set(Role.values)
        patients = Patient.objects.filter(user__email__startswith="patient")
        assert patients.count() == 30
        assert Episode.objects.filter(patient__in=patients).count() == 24
        supporters = patients.values_list("supporter__user__email", flat=True).distinct()
        assert set(supporters) == {"supporter@demo.example", "supporter2@demo.example"}

    def test_it_enrols_patients_with_progress_in_both_programmes(self, db):
        call_command("demo")
        keys = set(Episode.objects.values_list("programme__key", flat=True))
        assert keys == {"blended-depression", "postpartum-mood"}
        completed = sum(
            1
            for e in Episode.objects.all()
            for r in plan_rows(e)
            if r.assignment.completed_at is not None
        )
        assert completed > 10

    def test_it_prints_the_current_demo_code(self, db, capsys):
        call_command("demo", "--code")
        code = capsys.readouterr().out.strip()
        assert len(code) == 6 and code.isdigit()
