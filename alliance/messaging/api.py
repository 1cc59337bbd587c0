"""API operations of messaging: threads, messages (idempotent sends), read marks, the
template library, and a patient's request for a different supporter."""

from django.http import Http404
from django.utils import timezone
from ninja import Router, Status
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.lib.api_errors import error_response
from alliance.messaging import selectors, services
from alliance.messaging.models import Message, Thread
from alliance.messaging.schemas import (
    MessageIn,
    MessageOut,
    MessageTemplateOut,
    ReadOut,
    SentMessageOut,
    SupporterChangeIn,
    SupporterChangeOut,
    ThreadOut,
)

router = Router(tags=["messaging"])


def patient_for(request, patient_id: int) -> Patient:
    return policy.access_patient(request.auth, patient_id, what="messages", request=request)


def is_staff(user) -> bool:
    return policy.staff_role(user) is not None


def message_out(message: Message, *, for_staff: bool) -> dict:
    profile = message.author.staff_profile_or_none if not message.is_from_patient else None
    return {
        "id": message.pk,
        "thread_id": message.thread_id,
        "author": {
            "id": message.author_id,
            "name": message.author.display_name,
            "job_title": profile.job_title if profile else "",
        },
        "body": message.body,
        "sent_at": message.sent_at,
        "is_from_patient": message.is_from_patient,
        "risk_flagged": message.risk_flagged if for_staff else None,
    }


def thread_out(thread: Thread, *, unread: int, risk: bool | None, reply) -> dict:
    return {
        "id": thread.pk,
        "patient_id": thread.patient_id,
        "patient_name": thread.patient.user.full_name,
        "last_message_at": thread.last_message_at,
        "awaiting_reply_since": thread.awaiting_reply_since,
        "reply_due_at": reply.due_at,
        "overdue": reply.overdue,
        "unread": unread,
        "risk": risk,
    }


@router.get("/threads", response=list[ThreadOut], url_name="list_threads")
def list_threads(request, waiting: bool = False, limit: int = 100, offset: int = 0):
    """Staff: the threads of the patients you can see, waiting longest first, with unread,
    overdue and risk flags (``waiting=true`` keeps those waiting for a reply). A patient:
    their own thread."""
    user = request.auth
    if not is_staff(user):
        patient = Patient.objects.select_related("user", "service").filter(user=user).first()
        if patient is None:
            return []
        thread = selectors.thread_for(patient)
        if thread.pk is None:
            return []
        summary = selectors.week_messages(patient)
        return [thread_out(thread, unread=summary.unread, risk=None, reply=summary.reply)]
    threads = selectors.inbox_threads(user)
    if waiting:
        threads = threads.filter(awaiting_reply_since__isnull=False)
    limit = max(1, min(limit, 500))
    rows = selectors.inbox_rows(threads[max(offset, 0) : max(offset, 0) + limit])
    return [thread_out(r.thread, unread=r.unread, risk=r.risk, reply=r.reply) for r in rows]


@router.get("/patients/{patient_id}/messages", response=list[MessageOut], url_name="list_messages")
def list_messages(request, patient_id: int, before: int | None = None, limit: int = 50):
    """The thread's messages, oldest first: the newest ``limit`` (at most 200), or those
    before message ``before``. Reading does not mark them read (see mark_thread_read)."""
    patient = patient_for(request, patient_id)
    thread = selectors.thread_for(patient)
    found, _more = selectors.thread_messages(thread, before=before, limit=max(1, min(limit, 200)))
    for_staff = is_staff(request.auth)
    return [message_out(m, for_staff=for_staff) for m in found]


@router.post(
    "/patients/{patient_id}/messages",
    response={200: SentMessageOut, 201: SentMessageOut},
    url_name="send_message",
)
def send_message(request, patient_id: int, payload: MessageIn):
    """Send a message: the patient in their own thread, or a member of their care team.
    With a ``client_key`` already used for the same text, the message sent then (200). A
    patient's message with risk language returns the crisis information to show now."""
    patient = patient_for(request, patient_id)
    thread = selectors.thread_for(patient)
    try:
        message, created = services.message_send(
            thread=thread,
            author=request.auth,
            body=payload.body,
            client_key=payload.client_key,
            request=request,
        )
    except services.ClientKeyReused as error:
        return error_response(409, "conflict", error.messages[0], error.message_dict)
    body = message_out(message, for_staff=is_staff(request.auth))
    body["crisis_information"] = (
        services.crisis_text(patient) if message.risk_flagged and message.is_from_patient else None
    )
    return Status(201 if created else 200, body)


@router.post("/patients/{patient_id}/messages/read", response=ReadOut, url_name="mark_thread_read")
def mark_thread_read(request, patient_id: int):
    """Everything in the thread up to now counts as read by you."""
    patient = patient_for(request, patient_id)
    thread = selectors.thread_for(patient)
    now = timezone.now()
    services.thread_mark_read(thread=thread, user=request.auth, at=now)
    if is_staff(request.auth):
        unread = selectors.unread_for_staff(thread, request.auth)
    else:
        unread = selectors.unread_for_patient(patient).count()
    return {"thread_id": thread.pk, "read_at": now, "unread": unread}


@router.get(
    "/message-templates", response=list[MessageTemplateOut], url_name="list_message_templates"
)
def list_message_templates(request, patient_id: int | None = None):
    """The service's template library; with ``patient_id``, each filled in for that patient
    (as a message from you)."""
    user = request.auth
    if not selectors.can_use_templates(user):
        raise HttpError(403, "Message templates are for the care team.")
    context = None
    if patient_id is not None:
        patient = patient_for(request, patient_id)
        context = selectors.template_context(patient, user)
    templates = selectors.templates_for(user.staff_profile.service_id)
    return [
        {
            "id": t.pk,
            "title": t.title,
            "body": t.body,
            "rendered": services.template_render(t, context) if context is not None else None,
        }
        for t in templates
    ]


@router.post(
    "/me/supporter-change",
    response={200: SupporterChangeOut, 201: SupporterChangeOut},
    url_name="request_supporter_change",
)
def request_supporter_change(request, payload: SupporterChangeIn):
    """A patient asks for a different supporter (the reason is optional). While a request
    is open, asking again returns it (200)."""
    patient = Patient.objects.select_related("supporter").filter(user=request.auth).first()
    if patient is None:
        if is_staff(request.auth):
            raise HttpError(403, "Only a patient can ask for a different supporter.")
        raise Http404("Not found.")
    change, created = services.supporter_change_request(
        patient=patient, actor=request.auth, reason=payload.reason
    )
    return Status(
        201 if created else 200,
        {"id": change.pk, "status": change.status, "created_at": change.created_at},
    )
