"""Writing exercise entries (create, edit with versions, comment) and daily check-ins.

Every write is one transaction and validates everything before it writes anything, so bad
input raises ``ValidationError`` naming the fields and leaves the record as it was.
"""

import re
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, User
from alliance.accounts.policy import can_comment_on_entries
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.checkins import daily
from alliance.checkins.exercises import validate_entry
from alliance.checkins.models import (
    CheckInKey,
    DailyCheckIn,
    ExerciseComment,
    ExerciseEntry,
    ExerciseEntryVersion,
)

COMMENT_MAX = 2000
_MODULE_KEY = re.compile(r"[-a-zA-Z0-9_]{0,80}")
_CLIENT_KEY = re.compile(r"[-a-zA-Z0-9_.:]{8,64}")


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


class StaleVersion(ValidationError):
    """An edit made from an older version than the one stored: refused, nothing lost."""

    def __init__(self, current: int):
        self.current = current
        message = _(
            "This entry was changed since you opened it: it is now at version %(current)d. "
            "Your changes were not saved. Look at the entry again, then save your changes."
        )
        super().__init__({"expected_version": [message % {"current": current}]})


class ClientKeyReused(ValidationError):
    """A client key already used for a different entry: the caller must send a new one."""

    def __init__(self, entry: ExerciseEntry):
        self.entry = entry
        message = _(
            "Client key: this key was already used for an entry with different answers. "
            "Send a new key to make a new entry."
        )
        super().__init__({"client_key": [message]})


def checked_data(kind: str, data) -> dict:
    clean, errors = validate_entry(kind, data)
    if errors:
        raise ValidationError(errors)
    return clean


def require_patient_self(actor: User, patient: Patient) -> None:
    # Only the patient writes their own exercises; staff read and comment.
    if actor.pk != patient.user_id:
        raise PermissionDenied(_("Only the patient can write in their exercises."))


@transaction.atomic
def entry_create(
    *,
    patient: Patient,
    kind: str,
    data: dict,
    actor: User,
    module_key: str = "",
    client_key: str | None = None,
) -> tuple[ExerciseEntry, bool]:
    """A new entry and its first version; with a ``client_key`` already used for the same
    answers, the entry made then. Returns ``(entry, created)``."""
    require_patient_self(actor, patient)
    clean = checked_data(kind, data)
    module_key = (module_key or "").strip()
    if not _MODULE_KEY.fullmatch(module_key):
        raise field_error("module_key", _("Module: this is not a module's key."))
    if client_key is not None and not _CLIENT_KEY.fullmatch(client_key):
        message = _("Client key: use 8 to 64 letters, digits or the signs - _ . :")
        raise field_error("client_key", message)
    if client_key is not None:
        existing = existing_for_client_key(patient, client_key, kind, clean)
        if existing is not None:
            return existing, False
    entry = ExerciseEntry(
        patient=patient,
        kind=kind,
        data=clean,
        module_key=module_key,
        client_key=client_key,
        version=1,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        # Another request with the same key won the race: answer with its entry.
        if client_key is None:
            raise
        existing = existing_for_client_key(patient, client_key, kind, clean)
        if existing is None:
            raise
        return existing, False
    ExerciseEntryVersion.objects.create(
        entry=entry, version=1, data=clean, saved_at=entry.updated_at, saved_by=actor
    )
    return entry, True


def existing_for_client_key(patient, client_key, kind, clean) -> ExerciseEntry | None:
    entry = ExerciseEntry.objects.filter(patient=patient, client_key=client_key).first()
    if entry is None:
        return None
    first = entry.versions.filter(version=1).first()
    if entry.kind != kind or first is None or first.data != clean:
        raise ClientKeyReused(entry)
    return entry


@transaction.atomic
def entry_update(
    *, entry: ExerciseEntry, data: dict, actor: User, expected_version: int
) -> ExerciseEntry:
    """Save new answers as the next version. Refused if the entry moved on since
    ``expected_version``; answers identical to the stored ones change nothing (a retry)."""
    require_patient_self(actor, entry.patient)
    clean = checked_data(entry.kind, data)
    current = ExerciseEntry.objects.select_for_update().get(pk=entry.pk)
    if clean == current.data:
        return current
    if current.version != expected_version:
        raise StaleVersion(current.version)
    current.data = clean
    current.version += 1
    current.save(update_fields=["data", "version", "updated_at"])
    ExerciseEntryVersion.objects.create(
        entry=current,
        version=current.version,
        data=clean,
        saved_at=current.updated_at,
        saved_by=actor,
    )
    return current


@transaction.atomic
def entry_comment(
    *, entry: ExerciseEntry, author: User, text: str, request=None
) -> ExerciseComment:
    """A care-team member's comment on an entry; audited as a change to the record."""
    if not can_comment_on_entries(author, entry.patient):
        raise PermissionDenied(_("Only the patient's care team can comment."))
    if not isinstance(text, str):
        raise field_error("text", _("Comment: enter text."))
    text = text.strip()
    if not text:
        raise field_error("text", _("Comment: this cannot be left empty."))
    if len(text) > COMMENT_MAX:
        message = _("Comment: keep this to %(limit)d characters or fewer.")
        raise field_error("text", message % {"limit": COMMENT_MAX})
    comment = ExerciseComment.objects.create(entry=entry, author=author, text=text)
    audit_record(
        actor=author,
        patient=entry.patient,
        action=AuditAction.CREATE,
        what="exercise comment",
        detail={"entry": entry.pk, "comment": comment.pk},
        request=request,
    )
    return comment


# Daily check-ins -------------------------------------------------------------------------


@transaction.atomic
def checkin_save(
    *,
    patient: Patient,
    actor: User,
    mood,
    feelings=(),
    sleep_hours=None,
    activity: str = "",
    note: str = "",
    local_date: date | None = None,
    client_key: str | None = None,
    made_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[DailyCheckIn, bool]:
    """Today's check-in, made or changed: one per day, changeable on its own day only.

    ``local_date`` (or ``made_at``, when the check-in was made on the patient's device and
    sent later) picks the day; by default it is today in the patient's time zone. A past
    day is accepted only to add a check-in that is missing, up to ``daily.LATE_DAYS`` back.
    With a ``client_key`` already used, the check-in as stored is returned unchanged: a
    retry, however late, saves nothing twice. Returns ``(checkin, created)``.
    """
    if actor.pk != patient.user_id:
        raise field_error("patient", _("Patient: you can only check in for yourself."))
    answers = daily.clean_answers(
        mood=mood, feelings=feelings, sleep_hours=sleep_hours, activity=activity, note=note
    )
    client_key = daily.clean_client_key(client_key)
    now = now or timezone.now()
    zone = patient.user.time_zone
    today = daily.local_date_at(now, zone)
    if local_date is not None and made_at is not None:
        raise field_error("local_date", _("Date: send the day or the time made, not both."))
    if made_at is not None:
        local_date = daily.day_from_made_at(made_at, now=now, time_zone=zone)
    if local_date is not None and not isinstance(local_date, date):
        raise field_error("local_date", _("Date: give a day as YYYY-MM-DD."))
    day = local_date or today
    if day > today:
        daily.check_day(day, today=today, exists=False)
    if client_key is not None:
        stored = checkin_for_client_key(patient, client_key)
        if stored is not None:
            return stored, False
    # Two saves at once (two tabs, a replay racing the form) meet in the unique
    # constraints: the loser then finds the winner's row and changes it, or, with the same
    # key, answers with it. Two rounds are enough: the row exists after the first.
    for attempt in range(2):
        try:
            with transaction.atomic():
                return write_checkin(patient, day, today, answers, client_key)
        except IntegrityError:
            if client_key is not None:
                stored = checkin_for_client_key(patient, client_key)
                if stored is not None:
                    return stored, False
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def write_checkin(
    patient: Patient, day: date, today: date, answers: daily.Answers, client_key: str | None
) -> tuple[DailyCheckIn, bool]:
    checkin = (
        DailyCheckIn.objects.select_for_update().filter(patient=patient, local_date=day).first()
    )
    daily.check_day(day, today=today, exists=checkin is not None)
    created = checkin is None
    if created:
        checkin = DailyCheckIn(patient=patient, local_date=day, client_key=client_key)
    checkin.mood = answers.mood
    checkin.feelings = answers.feelings
    checkin.sleep_hours = answers.sleep_hours
    checkin.activity = answers.activity
    checkin.note = answers.note
    if created:
        checkin.save(force_insert=True)
    else:
        checkin.save(
            update_fields=["mood", "feelings", "sleep_hours", "activity", "note", "updated_at"]
        )
    if client_key is not None:
        CheckInKey.objects.create(patient=patient, client_key=client_key, checkin=checkin)
    return checkin, created


def checkin_for_client_key(patient: Patient, client_key: str) -> DailyCheckIn | None:
    key = (
        CheckInKey.objects.filter(patient=patient, client_key=client_key)
        .select_related("checkin")
        .first()
    )
    return key.checkin if key is not None else None
