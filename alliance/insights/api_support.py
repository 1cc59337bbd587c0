"""API operations of support: the caseload, the pre-session brief, and supervision
(moving a patient to another supporter; deciding a patient's request for a different one).

The same selectors and rules as the pages: ``alliance.insights.caseload`` and ``.brief``.
"""

from datetime import date, datetime
from typing import Literal

from django.http import Http404
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.accounts.models import Role
from alliance.insights import brief as briefs
from alliance.insights import caseload as caseloads

router = Router(tags=["support"])

MAX_PAGE_SIZE = 500


# --- Schemas ------------------------------------------------------------------------------


class ScoreTrendOut(Schema):
    instrument: str
    latest: int
    first: int
    count: int
    change: str | None
    recent: list[int]


class OpenAlertOut(Schema):
    id: int
    kind: str
    summary: str
    raised_at: datetime


class CaseloadRowOut(Schema):
    patient_id: int
    name: str
    team: str
    supporter: str | None
    status: str
    care_model: str | None
    tier: str
    reasons: list[str]
    last_activity_at: datetime | None
    next_contact_at: datetime | None
    inactive_days: int | None
    scores: list[ScoreTrendOut]
    open_alerts: list[OpenAlertOut]
    review_due_at: datetime | None
    review_overdue: bool
    unanswered_messages: int
    messages_overdue: bool
    links: dict[str, str]


class CaseloadFilterOut(Schema):
    scope: str
    status: str
    need: str
    sort: str
    page: int


class CaseloadOut(Schema):
    filter: CaseloadFilterOut
    total: int
    matching: int
    pages: int
    needing_attention: int
    tier_counts: dict[str, int]
    rows: list[CaseloadRowOut]


class ContactOut(Schema):
    id: int
    kind: str
    scheduled_at: datetime


class EpisodeBriefOut(Schema):
    id: int
    programme: str
    care_model: str
    started_at: datetime


class ModuleDoneOut(Schema):
    title: str
    completed_at: datetime


class ModuleStartedOut(Schema):
    title: str
    pages_done: int
    page_count: int


class ExerciseDetailOut(Schema):
    label: str
    text: str


class ExerciseOut(Schema):
    id: int
    kind: str
    title: str
    summary: str
    updated_at: datetime
    details: list[ExerciseDetailOut]


class MoodOut(Schema):
    day: date
    mood: int


class MeasureOut(Schema):
    instrument: str
    name: str
    latest: int
    latest_at: datetime
    severity: str
    first: int
    count: int
    change: str | None
    at_last_contact: int | None
    new_since_contact: bool
    recent: list[int]


class AllianceOut(Schema):
    mean: float
    at: datetime
    subscales: dict[str, float]
    previous_mean: float | None
    rupture: bool


class MessageWaitingOut(Schema):
    id: int
    sent_at: datetime
    body: str


class HomeworkBriefOut(Schema):
    id: int
    text: str
    done_at: datetime | None


class BriefOut(Schema):
    patient_id: int
    name: str
    since: datetime
    last_contact: ContactOut | None
    next_contact: ContactOut | None
    episode: EpisodeBriefOut | None
    agenda: list[str]
    open_alerts: list[OpenAlertOut]
    measures: list[MeasureOut]
    alliance: AllianceOut | None
    mood: list[MoodOut]
    mood_since_mean: float | None
    mood_before_mean: float | None
    modules_done: list[ModuleDoneOut]
    modules_started: list[ModuleStartedOut]
    exercises: list[ExerciseOut]
    unanswered_messages: list[MessageWaitingOut] | None  # None: messaging is not there
    homework_done: list[HomeworkBriefOut]
    homework_open: list[HomeworkBriefOut]


class PatientTimeOut(Schema):
    patient_id: int
    name: str
    tier: str
    minutes_per_week: float


class SupporterLoadOut(Schema):
    supporter_id: int
    name: str
    patient_count: int
    needing_attention: int
    total_minutes: int
    minutes_per_patient_per_week: float | None
    patients: list[PatientTimeOut]


class UnassignedOut(Schema):
    patient_id: int
    name: str
    team: str
    tier: str


class ChangeRequestOut(Schema):
    id: int
    patient_id: int
    patient_name: str
    team: str
    supporter: str | None
    created_at: datetime
    reason: str


class SupervisionOut(Schema):
    weeks: int
    supporters: list[SupporterLoadOut]
    unassigned: list[UnassignedOut]
    change_requests: list[ChangeRequestOut]


class ReassignIn(Schema):
    supporter_id: int


class ReassignOut(Schema):
    patient_id: int
    supporter_id: int
    supporter: str


class DecisionIn(Schema):
    decision: Literal["approve", "decline"]
    note: str
    supporter_id: int | None = None


class DecisionOut(Schema):
    id: int
    patient_id: int
    status: str
    decided_at: datetime | None
    new_supporter_id: int | None


# --- Conversions ----------------------------------------------------------------------------


def alert_out(alert) -> dict:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "summary": alert.summary,
        "raised_at": alert.raised_at,
    }


def trend_out(trend: caseloads.ScoreTrend) -> dict:
    return {
        "instrument": trend.instrument,
        "latest": trend.latest,
        "first": trend.first,
        "count": trend.count,
        "change": trend.change,
        "recent": list(trend.recent),
    }


def page_links(patient_id: int, templates: list) -> dict[str, str]:
    return {
        key: href for key, _label, href in caseloads.patient_links(patient_id, templates=templates)
    }


def row_out(row: caseloads.CaseloadRow, templates: list) -> dict:
    patient = row.patient
    return {
        "patient_id": patient.pk,
        "name": patient.user.full_name,
        "team": patient.team.name,
        "supporter": patient.supporter.user.display_name if patient.supporter else None,
        "status": row.status,
        "care_model": row.episode.care_model if row.episode else None,
        "tier": row.tier.name.lower(),
        "reasons": row.reasons,
        "last_activity_at": row.last_activity_at,
        "next_contact_at": row.next_contact_at,
        "inactive_days": row.inactive_days,
        "scores": [trend_out(t) for _code, t in sorted(row.scores.items())],
        "open_alerts": [alert_out(a) for a in row.alerts],
        "review_due_at": row.review_due_at,
        "review_overdue": row.review_overdue,
        "unanswered_messages": row.unanswered_messages,
        "messages_overdue": row.messages_overdue,
        "links": page_links(patient.pk, templates),
    }


def contact_out(contact) -> dict | None:
    if contact is None:
        return None
    return {"id": contact.pk, "kind": contact.kind, "scheduled_at": contact.scheduled_at}


def brief_out(brief: briefs.Brief) -> dict:
    episode = brief.episode
    alliance = brief.alliance
    return {
        "patient_id": brief.patient.pk,
        "name": brief.patient.user.full_name,
        "since": brief.since,
        "last_contact": contact_out(brief.last_contact),
        "next_contact": contact_out(brief.next_contact),
        "episode": (
            {
                "id": episode.pk,
                "programme": episode.programme.title,
                "care_model": episode.care_model,
                "started_at": episode.started_at,
            }
            if episode
            else None
        ),
        "agenda": brief.agenda,
        "open_alerts": [alert_out(a) for a in brief.alerts],
        "measures": [
            {
                "instrument": m.instrument,
                "name": m.name,
                "latest": m.latest,
                "latest_at": m.latest_at,
                "severity": m.severity,
                "first": m.first,
                "count": m.count,
                "change": m.change,
                "at_last_contact": m.at_last_contact,
                "new_since_contact": m.new_since_contact,
                "recent": list(m.recent),
            }
            for m in brief.measures
        ],
        "alliance": (
            {
                "mean": alliance.mean,
                "at": alliance.at,
                "subscales": alliance.subscales,
                "previous_mean": alliance.previous_mean,
                "rupture": brief.rupture,
            }
            if alliance
            else None
        ),
        "mood": [{"day": m.day, "mood": m.mood} for m in brief.mood],
        "mood_since_mean": brief.mood_since_mean,
        "mood_before_mean": brief.mood_before_mean,
        "modules_done": [
            {"title": a.module.title, "completed_at": a.completed_at} for a in brief.modules_done
        ],
        "modules_started": [
            {"title": a.module.title, "pages_done": a.pages_done, "page_count": a.page_count}
            for a in brief.modules_started
        ],
        "exercises": [
            {
                "id": e.entry_id,
                "kind": e.kind,
                "title": e.title,
                "summary": e.summary,
                "updated_at": e.updated_at,
                "details": [{"label": label, "text": text} for label, text in e.details],
            }
            for e in brief.exercises
        ],
        "unanswered_messages": (
            [{"id": m.pk, "sent_at": m.sent_at, "body": m.body} for m in brief.unanswered]
            if brief.messages_known
            else None
        ),
        "homework_done": [
            {"id": h.pk, "text": h.text, "done_at": h.done_at} for h in brief.homework_done
        ],
        "homework_open": [
            {"id": h.pk, "text": h.text, "done_at": h.done_at} for h in brief.homework_open
        ],
    }


def supervision_out(view: caseloads.Supervision) -> dict:
    return {
        "weeks": view.weeks,
        "supporters": [
            {
                "supporter_id": load.supporter.pk,
                "name": load.supporter.user.display_name,
                "patient_count": len(load.rows),
                "needing_attention": load.needing_attention,
                "total_minutes": load.total_minutes,
                "minutes_per_patient_per_week": load.minutes_per_patient_per_week,
                "patients": [
                    {
                        "patient_id": row.patient.pk,
                        "name": row.patient.user.full_name,
                        "tier": row.tier.name.lower(),
                        "minutes_per_week": minutes,
                    }
                    for row, minutes in load.patient_times
                ],
            }
            for load in view.supporters
        ],
        "unassigned": [
            {
                "patient_id": row.patient.pk,
                "name": row.patient.user.full_name,
                "team": row.patient.team.name,
                "tier": row.tier.name.lower(),
            }
            for row in view.unassigned
        ],
        "change_requests": [
            {
                "id": change.pk,
                "patient_id": change.patient_id,
                "patient_name": change.patient.user.full_name,
                "team": change.patient.team.name,
                "supporter": change.supporter.user.display_name if change.supporter else None,
                "created_at": change.created_at,
                "reason": change.reason,
            }
            for change in view.change_requests
        ],
    }


# --- Operations -----------------------------------------------------------------------------


@router.get("/caseload", response=CaseloadOut, url_name="get_caseload")
def get_caseload(
    request,
    scope: Literal["mine", "team"] | None = None,
    status: Literal["all", "active", "waiting", "ended"] = "all",
    need: Literal[
        "all", "attention", "risk", "messages", "review", "deterioration", "inactive"
    ] = "all",
    sort: Literal["triage", "name", "last_activity", "next_contact", "phq9", "gad7"] = "triage",
    page: int = Query(1, ge=1),
    page_size: int = Query(caseloads.PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    """Your caseload in triage order (risk, overdue replies, reviews due, getting worse,
    inactive, the rest), ``page_size`` patients a page. ``scope``: ``mine`` (your named
    patients; a supporter's default) or ``team`` (every patient of your teams)."""
    user = request.auth
    if not caseloads.can_view_caseload(user):
        raise HttpError(403, "The caseload is for supporters, digital navigators and supervisors.")
    if scope is None:
        scope = "mine" if policy.has_role(user, Role.SUPPORTER) else "team"
    wanted = caseloads.CaseloadFilter(scope=scope, status=status, need=need, sort=sort, page=page)
    found = caseloads.caseload(user, wanted, page_size=page_size)
    templates = caseloads.page_templates()
    return {
        "filter": wanted.__dict__,
        "total": found.total,
        "matching": found.matching,
        "pages": found.pages,
        "needing_attention": found.needing_attention,
        "tier_counts": {tier.name.lower(): n for tier, n in found.tier_counts.items()},
        "rows": [row_out(row, templates) for row in found.rows],
    }


@router.get("/patients/{patient_id}/brief", response=BriefOut, url_name="get_brief")
def get_brief(request, patient_id: int):
    """The pre-session brief: since the last attended contact, with a suggested agenda.
    Every read is in the audit log."""
    if not briefs.can_read_brief(request.auth):
        if not policy.patients_visible_to(request.auth).filter(pk=patient_id).exists():
            raise Http404("Not found.")  # never a hint that someone else's patient exists
        raise HttpError(403, "The pre-session brief is for the patient's care team.")
    patient = policy.access_patient(
        request.auth, patient_id, what="pre-session brief", request=request
    )
    return brief_out(briefs.patient_brief(patient))


@router.get("/supervision", response=SupervisionOut, url_name="get_supervision")
def get_supervision(request):
    """Your teams' caseloads by supporter with their time per patient per week, and the
    open requests for a different supporter (supervisors and service managers)."""
    if not caseloads.can_supervise(request.auth):
        raise HttpError(403, "Supervision is for supervisors and service managers.")
    return supervision_out(caseloads.supervision(request.auth))


@router.post("/patients/{patient_id}/reassign", response=ReassignOut, url_name="reassign_patient")
def reassign_patient(request, patient_id: int, payload: ReassignIn):
    """Move the patient to another supporter of their own team. Asking again for the
    supporter they have changes nothing."""
    if not policy.can_change_patient_care_team(request.auth):
        raise HttpError(403, "Only a supervisor or a service manager can move a patient.")
    patient = policy.access_patient(
        request.auth, patient_id, what="patient record", request=request
    )
    supporter = caseloads.patient_reassign(
        actor=request.auth, patient=patient, supporter_id=payload.supporter_id, request=request
    )
    return {
        "patient_id": patient.pk,
        "supporter_id": supporter.pk,
        "supporter": supporter.user.display_name,
    }


@router.post(
    "/supporter-change-requests/{request_id}/decide",
    response=DecisionOut,
    url_name="decide_supporter_change",
)
def decide_supporter_change(request, request_id: int, payload: DecisionIn):
    """Approve a patient's request for a different supporter (with ``supporter_id``, a
    supporter of their team) or decline it; ``note`` is required either way."""
    if not policy.can_change_patient_care_team(request.auth):
        raise HttpError(403, "Only a supervisor or a service manager can decide requests.")
    requests_for = caseloads.optional(
        "alliance.messaging.selectors", "supporter_change_requests_for"
    )
    change = (
        requests_for(request.auth, status=None).filter(pk=request_id).first()
        if requests_for
        else None
    )
    if change is None:
        raise Http404("Not found.")
    decided = caseloads.supporter_change_settle(
        actor=request.auth,
        change_request=change,
        approve=payload.decision == "approve",
        note=payload.note,
        supporter_id=payload.supporter_id,
        request=request,
    )
    return {
        "id": decided.pk,
        "patient_id": decided.patient_id,
        "status": decided.status,
        "decided_at": decided.decided_at,
        "new_supporter_id": decided.new_supporter_id,
    }
