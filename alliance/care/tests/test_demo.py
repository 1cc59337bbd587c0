"""The care demo: enrolled patients with past reviews (some due now) and contact notes;
running it again adds nothing."""

from django.core.management import call_command

from alliance.accounts.models import Patient
from alliance.care import demo, selectors
from alliance.care.models import Contact, Homework, Review, ReviewSchedule


def counts() -> tuple:
    return (
        Review.objects.count(),
        Contact.objects.exclude(recorded_at=None).count(),
        Contact.objects.count(),
        Homework.objects.count(),
        ReviewSchedule.objects.count(),
    )


class TestCareDemo:
    def test_it_adds_reviews_and_contact_notes_once(self, db):
        call_command("demo")
        before = counts()
        assert demo.populate() == 0
        assert counts() == before

        reviews = Review.objects.select_related("episode__patient__user").filter(
            episode__patient__user__email__startswith="patient"
        )
        assert reviews.count() > 10
        assert all(r.completed_at and r.minutes_spent and r.feedback for r in reviews)
        assert "Hi " in reviews.first().feedback

        due = selectors.reviews_due(Patient.objects.all())
        assert 0 < len(due) < Patient.objects.filter(episodes__status="active").count()

        attended = Contact.objects.filter(
            status="attended", episode__patient__user__email__startswith="patient"
        )
        assert attended.exists()
        assert all(c.notes and c.minutes_spent and c.recorded_by_id for c in attended)
        assert ReviewSchedule.objects.filter(care_model="blended", interval_days=14).exists()
