"""Writes of the care app: starting and ending episodes, tailoring plans, progress, homework.

Every tailoring change is audited with its old and new value. A mandatory module can be
waived only with a written reason; an optional one can be skipped.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, Role, StaffProfile, User
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.care.models import (
    CareModel,
    Contact,
    ContactKind,
    ContactStatus,
    EndReason,
    Episode,
    EpisodeStatus,
    Homework,
    ModuleAssignment,
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
def homework_add(*, episode: Episode, text: str, actor: User, due_date=None) -> Homework:
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
    )
    audit_plan(actor, episode, "homework set", {"old": None, "new": text})
    return homework


@transaction.atomic
def contact_book(
    *, episode: Episode, kind: str, scheduled_at, supporter=None, duration_minutes: int = 30
) -> Contact:
    """Book a session or call; the questionnaires due at it are sent with it."""
    refuse_if_ended(episode)
    if kind not in ContactKind.values:
        raise ValidationError({"kind": _("Choose face-to-face, phone or video.")})
    contact = Contact.objects.create(
        episode=episode,
        kind=kind,
        scheduled_at=scheduled_at,
        supporter=supporter or episode.supporter,
        duration_minutes=duration_minutes,
    )
    questionnaires_sync(episode)
    return contact


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
