"""Reads of the messaging app: threads, unread and unanswered messages, reply due times,
inboxes, templates and supporter-change requests. None of them writes anything.

Public and used by other apps (the brief, the caseload): ``thread_for``,
``unanswered_messages``, ``reply_due_at``, ``overdue_threads``, ``unread_for_patient``,
``messages_since``. Each runs a fixed number of queries whatever the history.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance.accounts import policy
from alliance.accounts.models import TEAM_ROLES, Patient, Role, Service, User
from alliance.messaging.models import (
    ChangeStatus,
    Draft,
    Message,
    MessageRead,
    MessageTemplate,
    MessagingSettings,
    SupporterChangeRequest,
    Thread,
)
from alliance.messaging.replytime import DEFAULT_REPLY_TARGET, due_day, is_overdue, reply_due
from alliance.messaging.risk import DEFAULT_RISK_PHRASES


def _epoch() -> Value:
    """Before any message: "never read" compares earlier than every message."""
    return Value(datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")), output_field=DateTimeField())


# --- Access rules built from the policy (to move into policy.py) -------------------------


def can_message_patient(user: User, patient: Patient) -> bool:
    """Who may send a patient messages: the patient, and their care team (their team's
    supporters, digital navigators and supervisors). Others who may see the patient (a
    service manager, an administrator) read the thread but do not write in it."""
    if user.pk == patient.user_id:
        return True
    return (
        policy.has_role(user, *TEAM_ROLES)
        and policy.patients_visible_to(user).filter(pk=patient.pk).exists()
    )


def can_use_templates(user: User) -> bool:
    """Who reads the service's template library: the care team, and administrators."""
    return policy.has_role(user, *TEAM_ROLES, Role.ADMINISTRATOR)


def can_manage_messaging(user: User) -> bool:
    """Who edits the reply target, the risk phrases and the templates: administrators."""
    return policy.can_manage_accounts(user)


# --- Settings ---------------------------------------------------------------------------


def settings_for(service: Service | int) -> MessagingSettings:
    """The service's settings; unsaved defaults when it has never changed them."""
    service_id = service if isinstance(service, int) else service.pk
    found = MessagingSettings.objects.filter(service_id=service_id).first()
    return found or MessagingSettings(
        service_id=service_id,
        reply_target_working_days=DEFAULT_REPLY_TARGET,
        risk_phrases=list(DEFAULT_RISK_PHRASES),
    )


def reply_targets(service_ids) -> dict[int, int]:
    """The reply target of each service (one query); the default for those without one."""
    service_ids = set(service_ids)
    found = dict(
        MessagingSettings.objects.filter(service_id__in=service_ids).values_list(
            "service_id", "reply_target_working_days"
        )
    )
    return {sid: found.get(sid, DEFAULT_REPLY_TARGET) for sid in service_ids}


def service_zone(service: Service) -> ZoneInfo:
    return ZoneInfo(service.time_zone)


# --- Threads and messages ---------------------------------------------------------------


def thread_for(patient: Patient) -> Thread:
    """The patient's thread; an unsaved one (no pk) when nobody has written yet. Sending a
    message or saving a draft creates it."""
    thread = Thread.objects.filter(patient=patient).first() or Thread(patient=patient)
    thread.patient = patient  # keep what the caller loaded (service, user, supporter)
    return thread


def thread_messages(
    thread: Thread, *, before: int | None = None, limit: int = 50
) -> tuple[list[Message], bool]:
    """Up to ``limit`` messages, oldest first, ending before message ``before`` (the
    newest when not given); and whether there are earlier ones."""
    if thread.pk is None:
        return [], False
    messages = Message.objects.filter(thread=thread).select_related("author__staff_profile")
    if before is not None:
        messages = messages.filter(pk__lt=before)
    newest_first = list(messages.order_by("-sent_at", "-pk")[: limit + 1])
    more = len(newest_first) > limit
    return list(reversed(newest_first[:limit])), more


def messages_since(patient: Patient, since: datetime | None) -> QuerySet[Message]:
    """The messages of the patient's thread sent at or after ``since`` (all when None),
    oldest first, each with its author."""
    messages = Message.objects.filter(thread__patient=patient).select_related("author")
    if since is not None:
        messages = messages.filter(sent_at__gte=since)
    return messages.order_by("sent_at", "pk")


def unanswered_messages(patient: Patient) -> QuerySet[Message]:
    """The patient's messages still waiting for a reply from the care team (sent since the
    thread began waiting: after the last staff message, unless marked as needing none)."""
    waiting_since = Thread.objects.filter(
        patient=patient, awaiting_reply_since__isnull=False
    ).values("awaiting_reply_since")[:1]
    return Message.objects.filter(
        thread__patient=patient, is_from_patient=True, sent_at__gte=Subquery(waiting_since)
    ).order_by("sent_at", "pk")


def unread_for_patient(patient: Patient) -> QuerySet[Message]:
    """The care team's messages the patient has not read yet, oldest first."""
    read_at = MessageRead.objects.filter(thread=OuterRef("thread"), user_id=patient.user_id).values(
        "read_at"
    )[:1]
    return (
        Message.objects.filter(thread__patient=patient, is_from_patient=False)
        .annotate(read_up_to=Coalesce(Subquery(read_at), _epoch()))
        .filter(sent_at__gt=F("read_up_to"))
        .select_related("author")
        .order_by("sent_at", "pk")
    )


def reply_due_at(message: Message) -> datetime:
    """When a reply to this message is due, by its service's target in working days
    (Monday to Friday, in the service's time zone)."""
    service = message.thread.patient.service
    target = settings_for(service).reply_target_working_days
    return reply_due(message.sent_at, working_days=target, tz=service_zone(service))


def overdue_threads(patients_qs: QuerySet[Patient], now: datetime | None = None) -> list[Thread]:
    """The threads of these patients whose reply is overdue, most overdue first; each has
    ``reply_due_at`` set. Two queries, whatever the number of patients."""
    now = now or timezone.now()
    # A reply is never due sooner than a day after the message (targets are >= 1 day).
    threads = list(
        Thread.objects.filter(
            patient__in=patients_qs, awaiting_reply_since__lte=now - timedelta(days=1)
        ).select_related("patient__user", "patient__service")
    )
    targets = reply_targets(t.patient.service_id for t in threads)
    overdue = []
    for thread in threads:
        service = thread.patient.service
        thread.reply_due_at = reply_due(
            thread.awaiting_reply_since,
            working_days=targets[service.pk],
            tz=service_zone(service),
        )
        if is_overdue(thread.reply_due_at, now):
            overdue.append(thread)
    return sorted(overdue, key=lambda t: t.reply_due_at)


def draft_of(thread: Thread, user: User) -> Draft | None:
    if thread.pk is None:
        return None
    return Draft.objects.filter(thread=thread, author=user).first()


def flagged_unanswered(thread: Thread) -> bool:
    """Whether a message still waiting for a reply used risk language."""
    if thread.pk is None:
        return False
    return Message.objects.filter(
        thread=thread,
        is_from_patient=True,
        risk_flagged=True,
        thread__awaiting_reply_since__isnull=False,
        sent_at__gte=F("thread__awaiting_reply_since"),
    ).exists()


# --- What a reply status says -----------------------------------------------------------


@dataclass(frozen=True)
class ReplyStatus:
    target_days: int
    awaiting_since: datetime | None = None
    due_at: datetime | None = None
    due_on: date | None = None
    overdue: bool = False


def reply_status(
    *, service: Service, awaiting_since: datetime | None, target: int, now: datetime
) -> ReplyStatus:
    if awaiting_since is None:
        return ReplyStatus(target_days=target)
    tz = service_zone(service)
    due_at = reply_due(awaiting_since, working_days=target, tz=tz)
    return ReplyStatus(
        target_days=target,
        awaiting_since=awaiting_since,
        due_at=due_at,
        due_on=due_day(awaiting_since, working_days=target, tz=tz),
        overdue=is_overdue(due_at, now),
    )


def thread_reply_status(thread: Thread, *, now: datetime | None = None) -> ReplyStatus:
    service = thread.patient.service
    target = settings_for(service).reply_target_working_days
    return reply_status(
        service=service,
        awaiting_since=thread.awaiting_reply_since,
        target=target,
        now=now or timezone.now(),
    )


@dataclass(frozen=True)
class WeekMessages:
    """The messages card on the patient's week."""

    unread: int
    has_thread: bool
    reply: ReplyStatus


def week_messages(patient: Patient, *, now: datetime | None = None) -> WeekMessages:
    """Unread messages and when to expect a reply, in one query."""
    thread = Thread.objects.filter(patient_id=patient.pk)
    read_at = MessageRead.objects.filter(
        thread__patient_id=patient.pk, user_id=patient.user_id
    ).values("read_at")[:1]
    unread = (
        Message.objects.filter(thread__patient_id=patient.pk, is_from_patient=False)
        .filter(sent_at__gt=Coalesce(Subquery(read_at), _epoch()))
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    target = MessagingSettings.objects.filter(service_id=OuterRef("pk")).values(
        "reply_target_working_days"
    )[:1]
    row = (
        Service.objects.filter(pk=patient.service_id)
        .annotate(
            target=Coalesce(Subquery(target), Value(DEFAULT_REPLY_TARGET)),
            thread_id=Subquery(thread.values("pk")[:1]),
            awaiting_since=Subquery(thread.values("awaiting_reply_since")[:1]),
            unread=Coalesce(Subquery(unread), Value(0), output_field=IntegerField()),
        )
        .first()
    )
    reply = reply_status(
        service=row,
        awaiting_since=row.awaiting_since,
        target=row.target,
        now=now or timezone.now(),
    )
    return WeekMessages(unread=row.unread, has_thread=row.thread_id is not None, reply=reply)


# --- The staff inbox --------------------------------------------------------------------


@dataclass
class InboxRow:
    thread: Thread
    unread: int
    risk: bool
    reply: ReplyStatus


def inbox_threads(user: User) -> QuerySet[Thread]:
    """Threads with at least one message of the patients ``user`` can see: waiting for a
    reply first (oldest wait first), then the most recent. Each has ``unread`` (patient
    messages after the user's own read mark) and ``risk`` (an unanswered message used risk
    language)."""
    read_at = MessageRead.objects.filter(thread=OuterRef("thread"), user_id=user.pk).values(
        "read_at"
    )[:1]
    unread = (
        Message.objects.filter(thread=OuterRef("pk"), is_from_patient=True)
        .annotate(read_up_to=Coalesce(Subquery(read_at), _epoch()))
        .filter(sent_at__gt=F("read_up_to"))
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")
    )
    risky = Message.objects.filter(
        thread=OuterRef("pk"),
        is_from_patient=True,
        risk_flagged=True,
        sent_at__gte=OuterRef("awaiting_reply_since"),
    )
    return (
        Thread.objects.filter(
            patient__in=policy.patients_visible_to(user), last_message_at__isnull=False
        )
        .select_related("patient__user", "patient__service", "patient__supporter__user")
        .annotate(
            unread=Coalesce(Subquery(unread[:1]), Value(0), output_field=IntegerField()),
            risk=Exists(risky),
        )
        .order_by(F("awaiting_reply_since").asc(nulls_last=True), "-last_message_at", "pk")
    )


def inbox_rows(threads, *, now: datetime | None = None) -> list[InboxRow]:
    """The rows of one page of the inbox, with reply due times (one more query)."""
    now = now or timezone.now()
    threads = list(threads)
    targets = reply_targets(t.patient.service_id for t in threads)
    return [
        InboxRow(
            thread=t,
            unread=t.unread,
            risk=t.risk,
            reply=reply_status(
                service=t.patient.service,
                awaiting_since=t.awaiting_reply_since,
                target=targets[t.patient.service_id],
                now=now,
            ),
        )
        for t in threads
    ]


def unread_for_staff(thread: Thread, user: User) -> int:
    """How many patient messages of the thread ``user`` has not marked read."""
    if thread.pk is None:
        return 0
    read = MessageRead.objects.filter(thread=thread, user=user).values_list("read_at", flat=True)
    read_at = read.first()
    messages = Message.objects.filter(thread=thread, is_from_patient=True)
    if read_at is not None:
        messages = messages.filter(sent_at__gt=read_at)
    return messages.count()


# --- Templates --------------------------------------------------------------------------


def templates_for(service: Service | int) -> QuerySet[MessageTemplate]:
    service_id = service if isinstance(service, int) else service.pk
    return MessageTemplate.objects.filter(service_id=service_id).order_by("title", "pk")


def template_context(patient: Patient, author: User) -> dict[str, str]:
    """The values of the placeholders for a message from ``author`` to ``patient``."""
    from django.utils.translation import gettext as _

    from alliance.care.plans import ModuleState
    from alliance.care.selectors import active_episode, plan_rows

    module_title = _("your programme")
    episode = active_episode(patient)
    if episode is not None:
        rows = plan_rows(episode)
        current = [r for r in rows if r.state.state == ModuleState.AVAILABLE]
        finished = [r for r in rows if r.state.state == ModuleState.COMPLETED]
        if current:
            module_title = current[0].module.title
        elif finished:
            module_title = finished[-1].module.title
        else:
            module_title = episode.programme.title
    return {
        "patient_first_name": patient.user.preferred_name
        or (patient.user.full_name.split() or [""])[0],
        "supporter_name": author.display_name,
        "module_title": module_title,
        "service_name": patient.service.name,
    }


# --- Requests for a different supporter -------------------------------------------------


def open_supporter_change(patient: Patient) -> SupporterChangeRequest | None:
    return SupporterChangeRequest.objects.filter(patient=patient, status=ChangeStatus.OPEN).first()


def latest_supporter_change(patient: Patient) -> SupporterChangeRequest | None:
    return SupporterChangeRequest.objects.filter(patient=patient).order_by("-created_at").first()


def supporter_change_requests_for(
    user: User, *, status: str | None = ChangeStatus.OPEN
) -> QuerySet[SupporterChangeRequest]:
    """The requests ``user`` decides: for the patients they see, when they may change a
    patient's supporter (supervisors of the patient's team, service managers,
    administrators). Nobody else sees them, the current supporter included."""
    if not policy.can_change_patient_care_team(user):
        return SupporterChangeRequest.objects.none()
    requests = SupporterChangeRequest.objects.filter(
        patient__in=policy.patients_visible_to(user)
    ).select_related("patient__user", "patient__team", "supporter__user", "new_supporter__user")
    if status is not None:
        requests = requests.filter(status=status)
    return requests.order_by("created_at", "pk")
