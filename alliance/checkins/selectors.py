"""Reading exercise entries, always through the access policy."""

from datetime import datetime

from django.db.models import Count, QuerySet
from django.http import Http404

from alliance.accounts import policy
from alliance.accounts.models import Patient, User
from alliance.checkins.models import ExerciseComment, ExerciseEntry, ExerciseEntryVersion


def entries_for_patient(
    patient: Patient, *, kind: str | None = None, since: datetime | None = None
) -> QuerySet[ExerciseEntry]:
    """A patient's entries, newest first, each with ``comment_count``. ``since`` keeps the
    entries written or changed since then (e.g. the last contact)."""
    entries = ExerciseEntry.objects.filter(patient=patient)
    if kind is not None:
        entries = entries.filter(kind=kind)
    if since is not None:
        entries = entries.filter(updated_at__gte=since)
    return entries.annotate(comment_count=Count("comments")).order_by("-created_at", "-pk")


def entry_for(user: User, entry_id: int, *, request=None) -> ExerciseEntry:
    """The entry if ``user`` may read it, else 404: a patient their own, staff their
    patients' (audited as a read of an "exercise entry")."""
    entry = ExerciseEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise Http404("Not found.")
    entry.patient = policy.access_patient(
        user, entry.patient_id, what="exercise entry", request=request
    )
    return entry


def entry_comments(entry: ExerciseEntry) -> QuerySet[ExerciseComment]:
    return entry.comments.select_related("author").order_by("created_at", "pk")


def entry_versions(entry: ExerciseEntry) -> QuerySet[ExerciseEntryVersion]:
    """Every saved version, newest first."""
    return entry.versions.select_related("saved_by").order_by("-version")
