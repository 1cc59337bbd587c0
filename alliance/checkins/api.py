"""API operations of exercise entries (list, create (idempotent), read, edit, comment) and
of daily check-ins (list, save (idempotent), today's)."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.checkins import selectors, services
from alliance.checkins.exercises import EXERCISE_KEYS, EXERCISE_TITLES
from alliance.checkins.models import DailyCheckIn, ExerciseComment, ExerciseEntry
from alliance.checkins.schemas import (
    CheckInIn,
    CheckInOut,
    CheckInTodayOut,
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


# Daily check-ins -------------------------------------------------------------------------

# The longest period one call lists; a client pages through longer histories.
CHECKIN_LIST_MAX_DAYS = 366


def checkin_out(checkin: DailyCheckIn) -> dict:
    return {
        "id": checkin.pk,
        "patient_id": checkin.patient_id,
        "local_date": checkin.local_date,
        "mood": checkin.mood,
        "feelings": checkin.feelings,
        "sleep_hours": float(checkin.sleep_hours) if checkin.sleep_hours is not None else None,
        "activity": checkin.activity,
        "note": checkin.note,
        "created_at": checkin.created_at,
        "updated_at": checkin.updated_at,
    }


def own_patient(request):
    patient = request.auth.patient_or_none
    if patient is None:
        raise HttpError(403, _("Only patients check in."))
    return patient


@router.get(
    "/patients/{patient_id}/checkins",
    response=list[CheckInOut],
    url_name="list_checkins",
    tags=["check-ins"],
)
def list_checkins(request, patient_id: int, start: date | None = None, end: date | None = None):
    """A patient's daily check-ins from ``start`` to ``end`` (both included, days in the
    patient's time zone), oldest first; by default the last 90 days, at most a year."""
    patient = policy.access_patient(request.auth, patient_id, what="check-ins", request=request)
    today = selectors.patient_today(patient)
    end = end or today
    start = start or end - timedelta(days=89)
    if start > end:
        raise ValidationError({"start": [_("Start: choose a day on or before the end.")]})
    if (end - start).days >= CHECKIN_LIST_MAX_DAYS:
        message = _("Start: ask for at most %(days)d days at a time.")
        raise ValidationError({"start": [message % {"days": CHECKIN_LIST_MAX_DAYS}]})
    return [checkin_out(c) for c in selectors.checkins_between(patient, start, end)]


@router.post(
    "/me/checkins",
    response={200: CheckInOut, 201: CheckInOut},
    url_name="save_checkin",
    tags=["check-ins"],
)
def save_checkin(request, payload: CheckInIn):
    """Today's check-in, made (201) or changed on the same day (200). With a
    ``client_key`` already used, the check-in as stored, unchanged (200)."""
    patient = own_patient(request)
    if payload.patient_id is not None and payload.patient_id != patient.pk:
        raise ValidationError({"patient_id": [_("Patient: you can only check in for yourself.")]})
    checkin, created = services.checkin_save(
        patient=patient,
        actor=request.auth,
        mood=payload.mood,
        feelings=payload.feelings,
        sleep_hours=payload.sleep_hours,
        activity=payload.activity,
        note=payload.note,
        local_date=payload.local_date,
        made_at=payload.made_at,
        client_key=payload.client_key,
    )
    return Status(201 if created else 200, checkin_out(checkin))


@router.get(
    "/me/checkins/today",
    response=CheckInTodayOut,
    url_name="get_checkin_today",
    tags=["check-ins"],
)
def get_checkin_today(request):
    """Today's check-in if done, the run of days in a row, and whether to welcome back."""
    patient = own_patient(request)
    status = selectors.checkin_status(patient, selectors.patient_today(patient))
    checkin = selectors.checkin_on(patient, status.today) if status.done_today else None
    return {
        "local_date": status.today,
        "done": status.done_today,
        "checkin": checkin_out(checkin) if checkin is not None else None,
        "streak": status.streak,
        "last_date": status.last_date,
        "welcome_back": status.welcome_back,
    }
