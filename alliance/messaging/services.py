"""Writing messages, drafts, read marks, templates, settings and supporter-change requests.

Every write is one transaction and checks everything before it writes anything, so bad
input raises ``ValidationError`` naming the field and leaves the record as it was. A
patient's message that uses risk language raises a risk alert in the same transaction: a
message is never stored without its alert, nor an alert without its message.
"""

import logging
import re
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts import policy
from alliance.accounts.models import Patient, Service, StaffProfile, User
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.insights.models import AlertKind
from alliance.insights.services import alert_raise
from alliance.messaging import placeholders, selectors
from alliance.messaging.models import (
    MESSAGE_MAX_LENGTH,
    ChangeStatus,
    Draft,
    Message,
    MessageRead,
    MessageTemplate,
    MessagingSettings,
    SupporterChangeRequest,
    Thread,
)
from alliance.messaging.replytime import MAX_REPLY_TARGET, MIN_REPLY_TARGET
from alliance.messaging.risk import MAX_PHRASES, clean_phrase_list, find_risk_phrases

logger = logging.getLogger("alliance.messaging")

_CLIENT_KEY = re.compile(r"[-a-zA-Z0-9_.:]{8,64}")
REASON_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000
TITLE_MAX_LENGTH = 120


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


class ClientKeyReused(ValidationError):
    """A client key already used for a different message: the caller must send a new one."""

    def __init__(self, message: Message):
        self.message_sent = message
        text = _(
            "Client key: this key was already used for a different message. "
            "Send a new key to send a new message."
        )
        super().__init__({"client_key": [text]})


def crisis_text(patient: Patient) -> str:
    return patient.service.crisis_info or settings.ALLIANCE_DEFAULT_CRISIS_INFO


def checked_body(body, *, field: str = "body") -> str:
    if not isinstance(body, str):
        raise field_error(field, _("Write a message."))
    body = body.strip()
    if not body:
        raise field_error(field, _("Write a message."))
    if len(body) > MESSAGE_MAX_LENGTH:
        raise field_error(
            field,
            _("Message: keep it to %(limit)s characters or fewer (it has %(n)s).")
            % {"limit": f"{MESSAGE_MAX_LENGTH:,}", "n": f"{len(body):,}"},
        )
    return body


def writer_side(author: User, patient: Patient) -> bool:
    """True when ``author`` writes as the patient, False as the care team; 404 for anyone
    who cannot see the patient, and 403 for staff who see but may not write."""
    if author.pk == patient.user_id:
        return True
    if not policy.patients_visible_to(author).filter(pk=patient.pk).exists():
        raise Http404("Not found.")
    if not selectors.can_message_patient(author, patient):
        raise PermissionDenied(_("Only the patient's care team can send messages."))
    return False


def saved_thread(thread: Thread) -> Thread:
    """The thread, created now if nobody had written yet; locked until the transaction
    ends, so the messages of one thread are written one after the other."""
    if thread.pk is None:
        thread, _created = Thread.objects.get_or_create(patient=thread.patient)
    return Thread.objects.select_for_update().select_related("patient__service").get(pk=thread.pk)


def read_mark(thread: Thread, user: User, at) -> None:
    MessageRead.objects.update_or_create(thread=thread, user=user, defaults={"read_at": at})


@transaction.atomic
def message_send(
    *,
    thread: Thread,
    author: User,
    body: str,
    client_key: str | None = None,
    request=None,
    now: datetime | None = None,
) -> tuple[Message, bool]:
    """Send a message in the patient's thread, as the patient or as their care team.

    Returns ``(message, created)``: with a ``client_key`` already used for the same text, the
    message sent then and False. A patient's message that matches the service's risk
    phrases is flagged and raises a risk alert; the care team's message notifies the patient
    (without its text). 404 when ``author`` cannot see the patient. ``now`` is for the demo
    and imports of earlier conversations; it defaults to the present."""
    patient = thread.patient
    from_patient = writer_side(author, patient)
    body = checked_body(body)
    if client_key is not None and not _CLIENT_KEY.fullmatch(client_key):
        raise field_error(
            "client_key", _("Client key: use 8 to 64 letters, digits or the signs - _ . :")
        )
    if client_key is not None:
        existing = existing_for_client_key(author, client_key, patient, body)
        if existing is not None:
            return existing, False
    thread = saved_thread(thread)
    now = now or timezone.now()
    risk = (
        find_risk_phrases(body, selectors.settings_for(patient.service_id).risk_phrases)
        if from_patient
        else None
    )
    message = Message(
        thread=thread,
        author=author,
        body=body,
        sent_at=now,
        is_from_patient=from_patient,
        client_key=client_key,
        risk_flagged=bool(risk and risk.flagged),
        risk_phrases=list(risk.phrases) if risk else [],
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        # Another request with the same key won the race: answer with its message.
        existing = (
            existing_for_client_key(author, client_key, patient, body) if client_key else None
        )
        if existing is None:
            raise
        return existing, False
    thread.last_message_at = now
    if from_patient:
        thread.awaiting_reply_since = thread.awaiting_reply_since or now
    else:
        thread.awaiting_reply_since = None
    thread.save(update_fields=["last_message_at", "awaiting_reply_since"])
    # Writing means having read what came before.
    read_mark(thread, author, now)
    Draft.objects.filter(thread=thread, author=author).delete()
    if message.risk_flagged:
        alert_raise(
            patient=patient,
            kind=AlertKind.RISK,
            cause=f"message:{message.pk}",
            summary=_("Risk language in a message from the patient. Read it and respond."),
        )
    if not from_patient:
        audit_record(
            actor=author,
            patient=patient,
            action=AuditAction.CREATE,
            what="message",
            detail={"message": message.pk, "thread": thread.pk},
            request=request,
        )
        transaction.on_commit(lambda: notify_patient(message), robust=True)
    return message, True


def existing_for_client_key(author, client_key, patient, body) -> Message | None:
    message = (
        Message.objects.filter(author=author, client_key=client_key)
        .select_related("thread")
        .first()
    )
    if message is None:
        return None
    if message.thread.patient_id != patient.pk or message.body != body:
        raise ClientKeyReused(message)
    return message


def notify_patient(message: Message) -> None:
    """Tell the patient a message is waiting, never what it says. Notifications are the
    notify app's: until it provides ``notify_event`` this does nothing (it is optional)."""
    try:
        from alliance.notify.services import notify_event
    except ImportError:
        return
    notify_event(
        patient=message.thread.patient,
        kind="message",
        title=_("New message"),
        body=_("You have a new message from your care team"),
        url=reverse("messaging:my_thread"),
        dedupe_key=f"message:{message.pk}",
    )


@transaction.atomic
def draft_save(*, thread: Thread, author: User, body: str) -> Draft | None:
    """Keep the author's unsent text (one draft per thread and author); empty text removes
    the draft. Returns the draft, or None when removed."""
    writer_side(author, thread.patient)
    body = body.strip() if isinstance(body, str) else ""
    if len(body) > MESSAGE_MAX_LENGTH:
        checked_body(body)
    if not body:
        if thread.pk is not None:
            Draft.objects.filter(thread=thread, author=author).delete()
        return None
    thread = saved_thread(thread)
    draft, _created = Draft.objects.update_or_create(
        thread=thread, author=author, defaults={"body": body}
    )
    return draft


@transaction.atomic
def thread_mark_read(*, thread: Thread, user: User, at=None) -> None:
    """Everything in the thread up to now (or ``at``) counts as read by ``user``."""
    if thread.pk is None:
        return
    at = at or timezone.now()
    current = MessageRead.objects.filter(thread=thread, user=user).first()
    if current is not None and current.read_at >= at:
        return
    read_mark(thread, user, at)


@transaction.atomic
def thread_mark_no_reply_needed(*, thread: Thread, actor: User, request=None) -> None:
    """A member of the care team decides the waiting messages need no reply (a "thank
    you"): the thread stops waiting, so it is no longer due or overdue. Audited."""
    if thread.pk is None:
        return
    if writer_side(actor, thread.patient):
        raise PermissionDenied(_("Only the care team can do this."))
    locked = saved_thread(thread)
    if locked.awaiting_reply_since is None:
        return
    old = locked.awaiting_reply_since.isoformat()
    locked.awaiting_reply_since = None
    locked.save(update_fields=["awaiting_reply_since"])
    thread.awaiting_reply_since = None
    audit_record(
        actor=actor,
        patient=thread.patient,
        action=AuditAction.UPDATE,
        what="messages marked as needing no reply",
        detail={"thread": thread.pk, "old": old, "new": None},
        request=request,
    )


# --- Templates --------------------------------------------------------------------------


def template_render(template: MessageTemplate | str, context: dict[str, str]) -> str:
    """The template's text with its placeholders filled in from ``context``."""
    body = template if isinstance(template, str) else template.body
    return placeholders.fill(body, context)


def checked_template(service: Service, title: str, body: str, *, exclude_pk=None):
    errors: dict[str, list[str]] = {}
    title = " ".join((title or "").split())
    body = (body or "").strip()
    if not title:
        errors["title"] = [_("Title: give the template a title.")]
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = [_("Title: keep it to %(n)d characters or fewer.") % {"n": 120}]
    elif (
        MessageTemplate.objects.filter(service=service, title__iexact=title)
        .exclude(pk=exclude_pk)
        .exists()
    ):
        errors["title"] = [_("Title: another template already has this title.")]
    if not body:
        errors["body"] = [_("Text: write the template's text.")]
    elif len(body) > MESSAGE_MAX_LENGTH:
        errors["body"] = [
            _("Text: keep it to %(limit)s characters or fewer.")
            % {"limit": f"{MESSAGE_MAX_LENGTH:,}"}
        ]
    else:
        problems = placeholders.placeholder_problems(body)
        if problems:
            errors["body"] = [_("Text: %(problem)s") % {"problem": p} for p in problems]
    if errors:
        raise ValidationError(errors)
    return title, body


def require_manager(actor: User, service: Service) -> None:
    profile = actor.staff_profile_or_none
    if not selectors.can_manage_messaging(actor) or profile.service_id != service.pk:
        raise PermissionDenied(_("Only an administrator of the service can do this."))


@transaction.atomic
def template_save(
    *,
    service: Service,
    actor: User,
    title: str,
    body: str,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    """Add a template to the service's library, or change one; unknown placeholders are
    refused."""
    require_manager(actor, service)
    if template is not None and template.service_id != service.pk:
        raise Http404("Not found.")
    title, body = checked_template(
        service, title, body, exclude_pk=template.pk if template else None
    )
    if template is None:
        return MessageTemplate.objects.create(service=service, title=title, body=body)
    template.title, template.body = title, body
    template.save(update_fields=["title", "body", "updated_at"])
    return template


@transaction.atomic
def template_delete(*, template: MessageTemplate, actor: User) -> None:
    require_manager(actor, template.service)
    template.delete()


@transaction.atomic
def templates_load_starters(*, service: Service) -> int:
    """Add the starter templates the service does not have yet (by key); the ones it has,
    edited or not, stay as they are. Returns how many were added."""
    from alliance.messaging.starter_templates import STARTER_TEMPLATES

    have_keys = set(MessageTemplate.objects.filter(service=service).values_list("key", flat=True))
    have_titles = {
        t.lower()
        for t in MessageTemplate.objects.filter(service=service).values_list("title", flat=True)
    }
    added = 0
    for key, title, body in STARTER_TEMPLATES:
        if key in have_keys or str(title).lower() in have_titles:
            continue
        MessageTemplate.objects.create(service=service, key=key, title=title, body=body)
        added += 1
    return added


# --- Settings ---------------------------------------------------------------------------


@transaction.atomic
def messaging_settings_update(
    *, service: Service, actor: User, reply_target_working_days, risk_phrases
) -> MessagingSettings:
    """Change the reply target and the risk phrases (one phrase per item). Audited with the
    old and new values."""
    require_manager(actor, service)
    errors: dict[str, list[str]] = {}
    try:
        target = int(reply_target_working_days)
    except (TypeError, ValueError):
        target = None
    if target is None or not MIN_REPLY_TARGET <= target <= MAX_REPLY_TARGET:
        errors["reply_target_working_days"] = [
            _("Reply target: enter a whole number of working days from %(low)d to %(high)d.")
            % {"low": MIN_REPLY_TARGET, "high": MAX_REPLY_TARGET}
        ]
    if isinstance(risk_phrases, str):
        risk_phrases = risk_phrases.splitlines()
    phrases, refused = clean_phrase_list(risk_phrases or [])
    if refused:
        errors["risk_phrases"] = [
            _(
                "Risk phrases: each phrase needs at least 3 letters and at most 100 "
                "characters. Check: %(lines)s"
            )
            % {"lines": "; ".join(refused[:5])}
        ]
    elif not phrases:
        errors["risk_phrases"] = [
            _("Risk phrases: keep at least one phrase; the list protects patients.")
        ]
    elif len(phrases) > MAX_PHRASES:
        errors["risk_phrases"] = [
            _("Risk phrases: keep the list to %(n)d phrases or fewer.") % {"n": MAX_PHRASES}
        ]
    if errors:
        raise ValidationError(errors)
    current = MessagingSettings.objects.select_for_update().filter(service=service).first()
    current = current or selectors.settings_for(service)
    old = {"reply_target_working_days": current.reply_target_working_days}
    old["risk_phrases"] = list(current.risk_phrases)
    current.reply_target_working_days = target
    current.risk_phrases = phrases
    current.save()
    new = {"reply_target_working_days": target, "risk_phrases": phrases}
    if new != old:
        audit_record(
            actor=actor,
            patient=None,
            action=AuditAction.UPDATE,
            what="messaging settings",
            detail={"service": service.pk, "old": old, "new": new},
        )
    return current


# --- Asking for a different supporter ---------------------------------------------------


@transaction.atomic
def supporter_change_request(
    *, patient: Patient, actor: User, reason: str = ""
) -> tuple[SupporterChangeRequest, bool]:
    """The patient asks for a different supporter, saying why if they wish. While one
    request is open, asking again returns it. Returns ``(request, created)``."""
    if actor.pk != patient.user_id:
        raise PermissionDenied(_("Only the patient can ask for a different supporter."))
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason) > REASON_MAX_LENGTH:
        raise field_error(
            "reason",
            _("Reason: keep it to %(n)s characters or fewer.") % {"n": f"{REASON_MAX_LENGTH:,}"},
        )
    existing = selectors.open_supporter_change(patient)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            change = SupporterChangeRequest.objects.create(
                patient=patient, reason=reason, supporter=patient.supporter
            )
    except IntegrityError:
        return selectors.open_supporter_change(patient), False
    return change, True


@transaction.atomic
def supporter_change_decide(
    *,
    change_request: SupporterChangeRequest,
    actor: User,
    note: str,
    supporter: StaffProfile | None = None,
    request=None,
) -> SupporterChangeRequest:
    """A supervisor (or service manager, administrator) decides a request: with a note of
    what was decided and, to change the supporter, the new one (from the patient's team).
    Audited; a new supporter is set through the accounts service, audited there too."""
    requests = selectors.supporter_change_requests_for(actor, status=None)
    locked = requests.select_for_update(of=("self",)).filter(pk=change_request.pk).first()
    if locked is None:
        raise Http404("Not found.")
    if locked.status != ChangeStatus.OPEN:
        raise field_error("note", _("This request has been decided already."))
    note = (note or "").strip() if isinstance(note, str) else ""
    errors: dict[str, list[str]] = {}
    if not note:
        errors["note"] = [_("Note: write what you decided, for the record.")]
    elif len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [
            _("Note: keep it to %(n)s characters or fewer.") % {"n": f"{NOTE_MAX_LENGTH:,}"}
        ]
    patient = locked.patient
    if supporter is not None and not (
        policy.supporters_assignable_by(actor, patient).filter(pk=supporter.pk).exists()
    ):
        errors["supporter"] = [_("Supporter: choose a supporter of the patient's team.")]
    if errors:
        raise ValidationError(errors)
    if supporter is not None and supporter.pk != patient.supporter_id:
        from alliance.accounts.services import patient_assign_supporter

        patient_assign_supporter(actor=actor, patient=patient, supporter=supporter, request=request)
    locked.status = ChangeStatus.DECIDED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.note = note
    locked.new_supporter = supporter
    locked.save(update_fields=["status", "decided_by", "decided_at", "note", "new_supporter"])
    audit_record(
        actor=actor,
        patient=patient,
        action=AuditAction.UPDATE,
        what="request for a different supporter",
        detail={
            "request": locked.pk,
            "old": ChangeStatus.OPEN,
            "new": ChangeStatus.DECIDED,
            "new_supporter": supporter.user.email if supporter else None,
        },
        request=request,
    )
    return locked
