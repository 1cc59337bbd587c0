"""Writes of the care app: starting and ending episodes, tailoring plans, progress, homework,
reviews and contacts.

Every tailoring change is audited with its old and new value. A mandatory module can be
waived only with a written reason; an optional one can be skipped. A review and a contact's
outcome are written in one transaction with the homework they set, and audited.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, Role, Service, StaffProfile, User
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.care import reviews as review_rules
from alliance.care import selectors
from alliance.care.models import (
    CareModel,
    Contact,
    ContactKind,
    ContactStatus,
    EndReason,
    Episode,
    EpisodeStatus,
    FeedbackDelivery,
    Homework,
    ModuleAssignment,
    Review,
    ReviewSchedule,
)
from alliance.care.plans import ModuleState
from alliance.content.models import Module, Programme, ProgrammeKind
from alliance.measures.services import questionnaires_sync


def audit_plan(actor, episode: Episode, what: str, detail: dict, request=None) -> None:
    audit_record(
        actor=actor,
        patient=episode.patient,
        action=AuditAction.UPDATE,
        what=what,
        detail=detail,
        request=request,
    )


def check_supporter(patient: Patient, supporter: StaffProfile | None) -> None:
    if supporter is None:
        return
    if (
        supporter.role != Role.SUPPORTER
        or supporter.service_id != patient.service_id
        or not supporter.teams.filter(pk=patient.team_id).exists()
    ):
        raise ValidationError({"supporter": _("Choose a supporter of the patient's care team.")})


@transaction.atomic
def episode_start(
    *,
    patient: Patient,
    programme: Programme,
    care_model: str,
    supporter: StaffProfile | None,
    actor: User | None,
    started_at=None,
    request=None,
) -> Episode:
    """Open an episode and lay out its plan: every module of the programme, in order."""
    if programme.kind != ProgrammeKind.PROGRAMME:
        raise ValidationError({"programme": _("Add-on modules cannot be an episode's programme.")})
    if care_model not in CareModel.values:
        raise ValidationError({"care_model": _("Choose one of the care models.")})
    check_supporter(patient, supporter)
    if Episode.objects.filter(patient=patient, status=EpisodeStatus.ACTIVE).exists():
        raise ValidationError(
            {"programme": _("This patient already has an active episode. End it first.")}
        )
    try:
        with transaction.atomic():
            episode = Episode.objects.create(
                patient=patient,
                programme=programme,
                care_model=care_model,
                supporter=supporter,
                started_at=started_at or timezone.now(),
            )
    except IntegrityError:
        # A second request raced this one: the constraint keeps one active episode.
        raise ValidationError(
            {"programme": _("This patient already has an active episode. End it first.")}
        ) from None
    modules = Module.objects.filter(programme=programme).order_by("position")
    ModuleAssignment.objects.bulk_create(
        ModuleAssignment(episode=episode, module=module, position=index)
        for index, module in enumerate(modules, start=1)
    )
    if actor is not None:
        audit_record(
            actor=actor,
            patient=patient,
            action=AuditAction.CREATE,
            what="episode",
            detail={"programme": f"{programme.key} v{programme.version}", "care_model": care_model},
            request=request,
        )
    questionnaires_sync(episode)
    return episode


@transaction.atomic
def episode_end(*, episode: Episode, reason: str, actor: User, request=None) -> None:
    if reason not in EndReason.values:
        raise ValidationError({"reason": _("Choose why the episode ends.")})
    if episode.status != EpisodeStatus.ACTIVE:
        raise ValidationError({"reason": _("This episode has ended already.")})
    episode.status = EpisodeStatus.ENDED
    episode.ended_at = timezone.now()
    episode.end_reason = reason
    episode.save(update_fields=["status", "ended_at", "end_reason"])
    audit_plan(actor, episode, "episode end", {"old": "active", "new": reason}, request)
    questionnaires_sync(episode)


def refuse_if_ended(episode: Episode) -> None:
    if episode.status != EpisodeStatus.ACTIVE:
        raise ValidationError({"episode": _("This episode has ended; its plan is closed.")})


@transaction.atomic
def plan_unlock(*, assignment: ModuleAssignment, actor: User, request=None) -> None:
    refuse_if_ended(assignment.episode)
    if assignment.unlocked_at is not None:
        return
    assignment.unlocked_at = timezone.now()
    assignment.save(update_fields=["unlocked_at"])
    audit_plan(
        actor,
        assignment.episode,
        "plan: unlock module",
        {"module": assignment.module.key, "old": "locked", "new": "unlocked"},
        request,
    )


@transaction.atomic
def plan_skip(*, assignment: ModuleAssignment, actor: User, request=None) -> None:
    refuse_if_ended(assignment.episode)
    if assignment.module.mandatory:
        raise ValidationError(
            {"action": _("This module is mandatory: waive it with a reason instead.")}
        )
    if assignment.completed_at is not None:
        raise ValidationError({"action": _("The patient has completed this module.")})
    assignment.skipped_at = timezone.now()
    assignment.save(update_fields=["skipped_at"])
    audit_plan(
        actor,
        assignment.episode,
        "plan: skip module",
        {"module": assignment.module.key, "old": "in plan", "new": "skipped"},
        request,
    )


@transaction.atomic
def plan_waive(*, assignment: ModuleAssignment, reason: str, actor: User, request=None) -> None:
    refuse_if_ended(assignment.episode)
    reason = (reason or "").strip()
    if not assignment.module.mandatory:
        raise ValidationError({"action": _("This module is optional: skip it instead.")})
    if not reason:
        raise ValidationError(
            {"reason": _("Write why this mandatory module is not right for the patient.")}
        )
    if assignment.completed_at is not None:
        raise ValidationError({"action": _("The patient has completed this module.")})
    assignment.waived_at = timezone.now()
    assignment.waive_reason = reason
    assignment.save(update_fields=["waived_at", "waive_reason"])
    audit_plan(
        actor,
        assignment.episode,
        "plan: waive mandatory module",
        {"module": assignment.module.key, "old": "in plan", "new": "waived", "reason": reason},
        request,
    )


@transaction.atomic
def plan_reinstate(*, assignment: ModuleAssignment, actor: User, request=None) -> None:
    refuse_if_ended(assignment.episode)
    old = "waived" if assignment.waived_at else "skipped" if assignment.skipped_at else None
    if old is None:
        return
    assignment.skipped_at = None
    assignment.waived_at = None
    assignment.waive_reason = ""
    assignment.save(update_fields=["skipped_at", "waived_at", "waive_reason"])
    audit_plan(
        actor,
        assignment.episode,
        "plan: reinstate module",
        {"module": assignment.module.key, "old": old, "new": "in plan"},
        request,
    )


@transaction.atomic
def plan_move(*, assignment: ModuleAssignment, position: int, actor: User, request=None) -> None:
    """Move a module to ``position`` (1 = first); the others shift to make room."""
    episode = assignment.episode
    refuse_if_ended(episode)
    ordered = list(
        ModuleAssignment.objects.select_for_update().filter(episode=episode).order_by("position")
    )
    if not 1 <= position <= len(ordered):
        raise ValidationError(
            {"position": _("Choose a position from 1 to %(n)d.") % {"n": len(ordered)}}
        )
    old = next(a.position for a in ordered if a.pk == assignment.pk)
    ordered = [a for a in ordered if a.pk != assignment.pk]
    ordered.insert(position - 1, assignment)
    for index, item in enumerate(ordered, start=1):
        item.position = index
    ModuleAssignment.objects.bulk_update(ordered, ["position"])
    audit_plan(
        actor,
        episode,
        "plan: reorder",
        {"module": assignment.module.key, "old": old, "new": position},
        request,
    )


@transaction.atomic
def plan_add_addon(*, episode: Episode, module: Module, actor: User, request=None):
    """Add an add-on module at the end of the plan, unlocked at once."""
    refuse_if_ended(episode)
    if module.programme.kind != ProgrammeKind.ADDON:
        raise ValidationError({"module": _("Only add-on modules can be added to a plan.")})
    if episode.assignments.filter(
        module__key=module.key, module__programme__key=module.programme.key
    ).exists():
        raise ValidationError({"module": _("This module is in the plan already.")})
    last = episode.assignments.order_by("-position").values_list("position", flat=True).first()
    assignment = ModuleAssignment.objects.create(
        episode=episode,
        module=module,
        position=(last or 0) + 1,
        is_addon=True,
        unlocked_at=timezone.now(),
    )
    audit_plan(
        actor,
        episode,
        "plan: add add-on module",
        {"module": module.key, "old": None, "new": "added"},
        request,
    )
    return assignment


@transaction.atomic
def page_complete(
    *, assignment: ModuleAssignment, page_number: int, page_count: int, state: ModuleState
) -> bool:
    """Record that the patient finished page ``page_number``; returns True when this
    finished the module. Repeating it (a retry, the back button) changes nothing more."""
    if state not in (ModuleState.AVAILABLE, ModuleState.COMPLETED):
        raise ValidationError({"page": _("This module is not open yet.")})
    if not 1 <= page_number <= page_count:
        raise ValidationError({"page": _("This module has no such page.")})
    now = timezone.now()
    locked = ModuleAssignment.objects.select_for_update().get(pk=assignment.pk)
    locked.pages_done = max(locked.pages_done, page_number)
    locked.resume_page = min(page_number + 1, page_count)
    locked.started_at = locked.started_at or now
    finished_now = locked.pages_done >= page_count and locked.completed_at is None
    if finished_now:
        locked.completed_at = now
    locked.save(update_fields=["pages_done", "resume_page", "started_at", "completed_at"])
    from alliance.insights.services import engagement_event_record

    engagement_event_record(
        patient=assignment.episode.patient_id,
        kind="page_completed",
        at=now,
        key=f"page:{locked.pk}:{page_number}",
    )
    if finished_now:
        Homework.objects.bulk_create(
            Homework(
                episode_id=locked.episode_id,
                assignment=locked,
                text=text,
                source=Homework.Source.MODULE,
            )
            for text in assignment.module.homework
        )
        questionnaires_sync(locked.episode)
    assignment.pages_done, assignment.completed_at = locked.pages_done, locked.completed_at
    return finished_now


def page_visit(*, assignment: ModuleAssignment, page_number: int) -> None:
    """Remember where the patient is, so the module resumes there."""
    ModuleAssignment.objects.filter(pk=assignment.pk).update(resume_page=page_number)
    ModuleAssignment.objects.filter(pk=assignment.pk, started_at=None).update(
        started_at=timezone.now()
    )


@transaction.atomic
def homework_set_done(*, homework: Homework, done: bool) -> None:
    homework.done_at = timezone.now() if done else None
    homework.save(update_fields=["done_at"])


@transaction.atomic
def homework_add(
    *,
    episode: Episode,
    text: str,
    actor: User,
    due_date=None,
    contact: Contact | None = None,
    review: Review | None = None,
    request=None,
) -> Homework:
    """Homework from the supporter; it appears in the patient's week. ``contact`` or
    ``review`` says where it was set."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the homework.")})
    refuse_if_ended(episode)
    homework = Homework.objects.create(
        episode=episode,
        text=text,
        due_date=due_date,
        source=Homework.Source.SUPPORTER,
        set_by=actor,
        contact=contact,
        review=review,
    )
    audit_plan(actor, episode, "homework set", {"old": None, "new": text}, request)
    return homework


# --- Free text from the supporter --------------------------------------------------------

HOMEWORK_MAX_ITEMS = 10
HOMEWORK_MAX_LENGTH = 500


def clean_text(value: str | None, *, field: str, label: str, max_length: int) -> str:
    text = (value or "").strip()
    if len(text) > max_length:
        raise ValidationError(
            {
                field: _("%(label)s can be up to %(max)d characters; this has %(n)d.")
                % {"label": label, "max": max_length, "n": len(text)}
            }
        )
    return text


def clean_homework(items: Iterable[str] | None) -> list[str]:
    """The homework items given (one per line on a page), blanks dropped, repeats once."""
    lines = list(dict.fromkeys(line.strip() for line in items or () if line and line.strip()))
    if len(lines) > HOMEWORK_MAX_ITEMS:
        raise ValidationError(
            {
                "homework": _("Set up to %(max)d homework items at a time; this has %(n)d.")
                % {"max": HOMEWORK_MAX_ITEMS, "n": len(lines)}
            }
        )
    for number, line in enumerate(lines, start=1):
        if len(line) > HOMEWORK_MAX_LENGTH:
            raise ValidationError(
                {
                    "homework": _(
                        "Homework item %(number)d is %(n)d characters long; "
                        "keep each item to %(max)d."
                    )
                    % {"number": number, "n": len(line), "max": HOMEWORK_MAX_LENGTH}
                }
            )
    return lines


def clean_minutes(value, *, field: str = "minutes_spent", low: int = 1, high: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = None
    if minutes is None or not low <= minutes <= high or str(value).strip() != str(minutes):
        raise ValidationError(
            {
                field: _("Give the minutes spent as a whole number from %(low)d to %(high)d.")
                % {"low": low, "high": high}
            }
        )
    return minutes


def local_when(moment: datetime) -> str:
    """A time as the person reading the message sees it (their own zone)."""
    return formats.date_format(timezone.localtime(moment), "j F Y, H:i")


# --- Reviews ------------------------------------------------------------------------------

logger = logging.getLogger(__name__)

FEEDBACK_MAX_LENGTH = 5000
NEXT_STEPS_MAX_LENGTH = 2000


@transaction.atomic
def review_start(
    *,
    episode: Episode,
    reviewer: StaffProfile,
    anyway: bool = False,
    now: datetime | None = None,
    request=None,
) -> tuple[Review, bool]:
    """Open a review of the episode for ``reviewer`` (the review clock starts now).

    Returns the review and whether it is new: a reviewer's open review is returned as it
    is, so opening the page again never restarts the clock. An episode that is not due a
    review is refused unless ``anyway`` (the supporter's deliberate "review now anyway").
    """
    refuse_if_ended(episode)
    now = now or timezone.now()
    existing = selectors.open_review(episode, reviewer)
    if existing is not None:
        return existing, False
    state = selectors.review_state(episode, now=now)
    if not state.is_due and not anyway:
        raise ValidationError(
            {
                "anyway": _(
                    "%(name)s is not due a review until %(when)s. Tick “Review now anyway” "
                    "to start one now."
                )
                % {"name": episode.patient.user.full_name, "when": local_when(state.due_at)}
            }
        )
    try:
        with transaction.atomic():
            review = Review.objects.create(
                episode=episode,
                reviewer=reviewer,
                covers_from=state.last_reviewed_at or episode.started_at,
                opened_at=now,
            )
    except IntegrityError:
        # A double click raced this request: the constraint keeps one open review.
        return selectors.open_review(episode, reviewer), False
    audit_record(
        actor=reviewer.user,
        patient=episode.patient,
        action=AuditAction.CREATE,
        what="review",
        detail={"review": review.pk, "old": None, "new": "open", "due": state.is_due},
        request=request,
    )
    return review, True


def refuse_if_done(review: Review) -> None:
    if review.completed_at is not None:
        raise ValidationError({"review": _("This review is done already.")})


@transaction.atomic
def review_save(*, review: Review, feedback: str = "", next_steps: str = "") -> Review:
    """Keep what the supporter has written so far, to finish the review later."""
    locked = Review.objects.select_for_update().get(pk=review.pk)
    refuse_if_done(locked)
    locked.feedback = clean_text(
        feedback, field="feedback", label=_("Feedback"), max_length=FEEDBACK_MAX_LENGTH
    )
    locked.next_steps = clean_text(
        next_steps, field="next_steps", label=_("Next steps"), max_length=NEXT_STEPS_MAX_LENGTH
    )
    locked.save(update_fields=["feedback", "next_steps"])
    review.feedback, review.next_steps = locked.feedback, locked.next_steps
    return locked


@transaction.atomic
def review_complete(
    *,
    review: Review,
    actor: User,
    feedback: str = "",
    next_steps: str = "",
    homework: Iterable[str] = (),
    minutes_spent: int | str | None = None,
    now: datetime | None = None,
    request=None,
) -> Review:
    """Mark the review done: keep the feedback and next steps, set the homework (it appears
    in the patient's week), record the time spent, and give the patient the feedback — as
    a message when messaging can send it, else on their week.

    Everything is checked before anything is written; a retry of a done review changes
    nothing and returns it.
    """
    now = now or timezone.now()
    locked = Review.objects.select_for_update().select_related("episode__patient").get(pk=review.pk)
    if locked.completed_at is not None:
        return locked
    episode = locked.episode
    feedback = clean_text(
        feedback, field="feedback", label=_("Feedback"), max_length=FEEDBACK_MAX_LENGTH
    )
    next_steps = clean_text(
        next_steps, field="next_steps", label=_("Next steps"), max_length=NEXT_STEPS_MAX_LENGTH
    )
    items = clean_homework(homework)
    minutes = clean_minutes(minutes_spent, high=review_rules.MAX_MINUTES)
    if items:
        refuse_if_ended(episode)
    locked.feedback = feedback
    locked.next_steps = next_steps
    locked.completed_at = now
    locked.minutes_spent = minutes or review_rules.minutes_between(locked.opened_at, now)
    locked.feedback_delivery = feedback_deliver(locked, actor) if feedback else ""
    locked.save(
        update_fields=[
            "feedback",
            "next_steps",
            "completed_at",
            "minutes_spent",
            "feedback_delivery",
        ]
    )
    for text in items:
        homework_add(episode=episode, text=text, actor=actor, review=locked, request=request)
    audit_plan(
        actor,
        episode,
        "review done",
        {
            "review": locked.pk,
            "old": "open",
            "new": "done",
            "minutes_spent": locked.minutes_spent,
            "feedback": locked.feedback_delivery or None,
            "homework": len(items),
        },
        request,
    )
    return locked


def feedback_deliver(review: Review, actor: User) -> str:
    """Send the review's feedback to the patient as a message in their thread when the
    messaging app is there (``alliance.messaging.services.message_send``); otherwise it
    waits on their week.

    The message carries an idempotency key made from the review, so a retry never sends it
    twice. If sending is refused, the feedback is kept for the week instead: it is never
    dropped.
    """
    try:
        from alliance.messaging.selectors import thread_for
        from alliance.messaging.services import message_send
    except ImportError:
        return FeedbackDelivery.WEEK
    try:
        with transaction.atomic():
            message_send(
                thread=thread_for(review.episode.patient),
                author=actor,
                body=review.feedback,
                client_key=f"care-review-{review.pk}",
            )
    except (TypeError, ValidationError, Http404):
        logger.exception("Review %s: feedback not sent as a message; kept for the week", review.pk)
        return FeedbackDelivery.WEEK
    return FeedbackDelivery.MESSAGE


@transaction.atomic
def review_schedule_set(*, service: Service, intervals: dict[str, object], actor: User) -> None:
    """Set the days between reviews for each care model of the service (1 to 90). Every
    value is checked first; one bad value changes nothing."""
    cleaned: dict[str, int] = {}
    for care_model, raw in intervals.items():
        if care_model not in CareModel.values:
            raise ValidationError({care_model: _("This is not a care model.")})
        try:
            days = int(raw)
        except (TypeError, ValueError):
            days = None
        if (
            days is None
            or not review_rules.MIN_INTERVAL_DAYS <= days <= review_rules.MAX_INTERVAL_DAYS
        ):
            raise ValidationError(
                {
                    care_model: _(
                        "%(model)s: give the days between reviews as a whole number from "
                        "%(low)d to %(high)d."
                    )
                    % {
                        "model": CareModel(care_model).label,
                        "low": review_rules.MIN_INTERVAL_DAYS,
                        "high": review_rules.MAX_INTERVAL_DAYS,
                    }
                }
            )
        cleaned[care_model] = days
    for care_model, days in cleaned.items():
        ReviewSchedule.objects.update_or_create(
            service=service,
            care_model=care_model,
            defaults={"interval_days": days, "updated_by": actor},
        )


# --- Contacts -------------------------------------------------------------------------------

MIN_DURATION = 5
MAX_DURATION = 240
NOTES_MAX_LENGTH = 10000
MAX_CONTACT_MINUTES = 480


def check_booking(
    *, episode: Episode, supporter: StaffProfile | None, scheduled_at, duration_minutes, now
) -> int:
    """The checks of a booking by a person; returns the duration as a number."""
    duration = clean_minutes(
        duration_minutes, field="duration_minutes", low=MIN_DURATION, high=MAX_DURATION
    )
    if duration is None:
        raise ValidationError({"duration_minutes": _("Give how long the contact will take.")})
    if timezone.is_naive(scheduled_at):
        raise ValidationError(
            {"scheduled_at": _("Give the time with its time zone (e.g. 2026-03-02T14:00Z).")}
        )
    if scheduled_at < now.replace(second=0, microsecond=0):
        raise ValidationError(
            {
                "scheduled_at": _("%(when)s is in the past. Choose a time from now on.")
                % {"when": local_when(scheduled_at)}
            }
        )
    if supporter is None:
        raise ValidationError(
            {"supporter": _("The episode has no named supporter to hold the contact.")}
        )
    # One booking at a time per supporter: the lock makes the overlap check hold when two
    # people book the same supporter at once.
    StaffProfile.objects.select_for_update().filter(pk=supporter.pk).first()
    ends_at = scheduled_at + timedelta(minutes=duration)
    nearby = Contact.objects.filter(
        supporter=supporter,
        status__in=[ContactStatus.SCHEDULED, ContactStatus.ATTENDED],
        scheduled_at__lt=ends_at,
        scheduled_at__gt=scheduled_at - timedelta(minutes=MAX_CONTACT_MINUTES),
    ).only("scheduled_at", "duration_minutes")
    for other in nearby:
        other_end = other.scheduled_at + timedelta(minutes=other.duration_minutes)
        if other_end > scheduled_at:
            raise ValidationError(
                {
                    "scheduled_at": _(
                        "%(name)s has another appointment from %(start)s to %(end)s. "
                        "Choose a time that does not overlap it."
                    )
                    % {
                        "name": supporter.user.display_name,
                        "start": local_when(other.scheduled_at),
                        "end": formats.time_format(timezone.localtime(other_end), "H:i"),
                    }
                }
            )
    return duration


@transaction.atomic
def contact_book(
    *,
    episode: Episode,
    kind: str,
    scheduled_at,
    supporter: StaffProfile | None = None,
    duration_minutes: int = 30,
    actor: User | None = None,
    client_key: str | None = None,
    now: datetime | None = None,
    request=None,
) -> Contact:
    """Book a session or call; the questionnaires due at it are sent with it.

    A booking by a member of staff (``actor``) is checked — not in the past, 5 to 240
    minutes long, not overlapping another appointment of the same supporter with any
    patient — and audited. Without an actor the contact is recorded as given: history
    written by the system (the demo, imports). A retry with the same ``client_key``
    returns the contact booked the first time.
    """
    refuse_if_ended(episode)
    if client_key and len(client_key) > 64:
        raise ValidationError({"client_key": _("The client key can be up to 64 characters.")})
    if client_key:
        existing = Contact.objects.filter(episode=episode, client_key=client_key).first()
        if existing is not None:
            return existing
    if kind not in ContactKind.values:
        raise ValidationError({"kind": _("Choose face-to-face, phone or video.")})
    supporter = supporter or episode.supporter
    if actor is not None:
        supporter = supporter or actor.staff_profile_or_none
        duration_minutes = check_booking(
            episode=episode,
            supporter=supporter,
            scheduled_at=scheduled_at,
            duration_minutes=duration_minutes,
            now=now or timezone.now(),
        )
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                episode=episode,
                kind=kind,
                scheduled_at=scheduled_at,
                supporter=supporter,
                duration_minutes=duration_minutes,
                client_key=client_key or None,
            )
    except IntegrityError:
        # The same booking, retried at the same moment: one contact stays.
        return Contact.objects.get(episode=episode, client_key=client_key)
    if actor is not None:
        audit_record(
            actor=actor,
            patient=episode.patient,
            action=AuditAction.CREATE,
            what="contact",
            detail={
                "contact": contact.pk,
                "old": None,
                "new": {
                    "kind": kind,
                    "scheduled_at": scheduled_at.isoformat(),
                    "duration_minutes": duration_minutes,
                },
            },
            request=request,
        )
    questionnaires_sync(episode)
    return contact


RECORDED_STATUSES = (ContactStatus.ATTENDED, ContactStatus.DID_NOT_ATTEND, ContactStatus.CANCELLED)


@transaction.atomic
def contact_record(
    *,
    contact: Contact,
    status: str,
    actor: User,
    notes: str = "",
    minutes_spent: int | str | None = None,
    homework: Iterable[str] = (),
    now: datetime | None = None,
    request=None,
) -> Contact:
    """Record how a contact went: attended (it counts as a treatment contact for the
    outcome), did not attend, or cancelled; with the contact notes, the supporter's time
    (the booked duration unless given) and the homework set in the session, which lands in
    the patient's plan and week.

    Everything is checked before anything is written. Recording again corrects the record
    (audited); homework already set in this contact is not set twice.
    """
    now = now or timezone.now()
    if status not in RECORDED_STATUSES:
        raise ValidationError({"status": _("Choose attended, did not attend or cancelled.")})
    if status != ContactStatus.CANCELLED and contact.scheduled_at > now:
        raise ValidationError(
            {
                "status": _(
                    "This contact is on %(when)s. Record whether the patient attended once "
                    "it has started, or cancel it."
                )
                % {"when": local_when(contact.scheduled_at)}
            }
        )
    notes = clean_text(notes, field="notes", label=_("Contact notes"), max_length=NOTES_MAX_LENGTH)
    minutes = clean_minutes(minutes_spent, low=0, high=MAX_CONTACT_MINUTES)
    items = clean_homework(homework)
    if items and status != ContactStatus.ATTENDED:
        raise ValidationError({"homework": _("Homework is set in a contact the patient attended.")})
    locked = (
        Contact.objects.select_for_update().select_related("episode__patient").get(pk=contact.pk)
    )
    episode = locked.episode
    if items:
        refuse_if_ended(episode)
    if minutes is None and status == ContactStatus.ATTENDED:
        minutes = locked.duration_minutes
    old = {"status": locked.status, "minutes_spent": locked.minutes_spent}
    locked.status = status
    locked.notes = notes
    locked.minutes_spent = minutes
    locked.recorded_by = actor
    locked.recorded_at = now
    locked.save(update_fields=["status", "notes", "minutes_spent", "recorded_by", "recorded_at"])
    already_set = {h.text for h in locked.homework.all()}
    for text in items:
        if text not in already_set:
            homework_add(episode=episode, text=text, actor=actor, contact=locked, request=request)
    audit_plan(
        actor,
        episode,
        "contact outcome",
        {
            "contact": locked.pk,
            "old": old,
            "new": {"status": status, "minutes_spent": minutes},
            "notes_written": bool(notes),
        },
        request,
    )
    questionnaires_sync(episode)
    for name in ("status", "notes", "minutes_spent", "recorded_by", "recorded_at"):
        setattr(contact, name, getattr(locked, name))
    return locked


@transaction.atomic
def contact_set_status(*, contact: Contact, status: str, actor: User | None = None) -> None:
    """Record attendance (attended counts as a treatment contact), a DNA or a cancellation."""
    if status not in ContactStatus.values:
        raise ValidationError({"status": _("Choose attended, did not attend or cancelled.")})
    old = contact.status
    contact.status = status
    contact.save(update_fields=["status"])
    if actor is not None:
        audit_plan(actor, contact.episode, "contact status", {"old": old, "new": status})
    questionnaires_sync(contact.episode)
