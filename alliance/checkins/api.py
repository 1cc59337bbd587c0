"""API operations of exercise entries: list, create (idempotent), read, edit, comment."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from ninja import Router, Status

from alliance.accounts import policy
from alliance.checkins import selectors, services
from alliance.checkins.exercises import EXERCISE_KEYS, EXERCISE_TITLES
from alliance.checkins.models import ExerciseComment, ExerciseEntry
from alliance.checkins.schemas import (
    ExerciseCommentIn,
    ExerciseCommentOut,
    ExerciseEntryIn,
    ExerciseEntryOut,
    ExerciseEntryUpdateIn,
)
from alliance.lib.api_errors import error_response

router = Router(tags=["exercises"])


def comment_out(comment: ExerciseComment) -> dict:
    return {
        "id": comment.pk,
        "author": {"id": comment.author_id, "name": comment.author.display_name},
        "text": comment.text,
        "created_at": comment.created_at,
    }


def entry_out(entry: ExerciseEntry, comments) -> dict:
    return {
        "id": entry.pk,
        "patient_id": entry.patient_id,
        "kind": entry.kind,
        "title": str(EXERCISE_TITLES[entry.kind]),
        "data": entry.data,
        "module_key": entry.module_key,
        "version": entry.version,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "comments": [comment_out(c) for c in comments],
    }


@router.get(
    "/patients/{patient_id}/exercises",
    response=list[ExerciseEntryOut],
    url_name="list_exercise_entries",
)
def list_exercise_entries(
    request, patient_id: int, kind: str | None = None, since: datetime | None = None
):
    """A patient's exercise entries, newest first; ``kind`` and ``since`` narrow the list."""
    patient = policy.access_patient(
        request.auth, patient_id, what="exercise entries", request=request
    )
    if kind is not None and kind not in EXERCISE_KEYS:
        raise ValidationError(
            {"kind": [_("Kind: choose one of %(kinds)s.") % {"kinds": ", ".join(EXERCISE_KEYS)}]}
        )
    entries = selectors.entries_for_patient(patient, kind=kind, since=since).prefetch_related(
        Prefetch(
            "comments",
            queryset=ExerciseComment.objects.select_related("author").order_by("created_at", "pk"),
        )
    )
    return [entry_out(entry, entry.comments.all()) for entry in entries]


@router.post(
    "/patients/{patient_id}/exercises",
    response={200: ExerciseEntryOut, 201: ExerciseEntryOut},
    url_name="create_exercise_entry",
)
def create_exercise_entry(request, patient_id: int, payload: ExerciseEntryIn):
    """A new entry, by the patient themselves. With a ``client_key`` already used, the
    entry made then (200)."""
    patient = policy.access_patient(
        request.auth, patient_id, what="exercise entries", request=request
    )
    try:
        entry, created = services.entry_create(
            patient=patient,
            kind=payload.kind,
            data=payload.data,
            actor=request.auth,
            module_key=payload.module_key,
            client_key=payload.client_key,
        )
    except services.ClientKeyReused as error:
        return error_response(409, "conflict", error.messages[0], error.message_dict)
    return Status(201 if created else 200, entry_out(entry, selectors.entry_comments(entry)))


@router.get("/exercises/{entry_id}", response=ExerciseEntryOut, url_name="get_exercise_entry")
def get_exercise_entry(request, entry_id: int):
    entry = selectors.entry_for(request.auth, entry_id, request=request)
    return entry_out(entry, selectors.entry_comments(entry))


@router.put("/exercises/{entry_id}", response=ExerciseEntryOut, url_name="update_exercise_entry")
def update_exercise_entry(request, entry_id: int, payload: ExerciseEntryUpdateIn):
    """New answers, saved as the next version. 409 if the entry changed since
    ``expected_version``; the same answers again change nothing."""
    entry = selectors.entry_for(request.auth, entry_id, request=request)
    try:
        entry = services.entry_update(
            entry=entry,
            data=payload.data,
            actor=request.auth,
            expected_version=payload.expected_version,
        )
    except services.StaleVersion as error:
        return error_response(409, "conflict", error.messages[0], error.message_dict)
    return entry_out(entry, selectors.entry_comments(entry))


@router.post(
    "/exercises/{entry_id}/comments",
    response={201: ExerciseCommentOut},
    url_name="comment_exercise_entry",
)
def comment_exercise_entry(request, entry_id: int, payload: ExerciseCommentIn):
    """A comment from the patient's care team, which the patient reads with the entry."""
    entry = selectors.entry_for(request.auth, entry_id, request=request)
    comment = services.entry_comment(
        entry=entry, author=request.auth, text=payload.text, request=request
    )
    return Status(201, comment_out(comment))
