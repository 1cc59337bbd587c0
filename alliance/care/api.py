"""API operations of the care app: episodes, the plan and its tailoring, the week."""

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Router, Status
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.accounts.models import Patient, StaffProfile
from alliance.care import selectors, services
from alliance.care.models import Episode, Homework
from alliance.care.plans import overall_progress
from alliance.care.schemas import (
    AddonIn,
    EpisodeEndIn,
    EpisodeOut,
    EpisodeStartIn,
    HomeworkDoneIn,
    HomeworkIn,
    HomeworkOut,
    PageDoneOut,
    PlanChangeIn,
    PlanOut,
    WeekOut,
)
from alliance.content.models import Module, Programme

router = Router(tags=["care"])


def episode_out(episode: Episode) -> dict:
    return {
        "id": episode.pk,
        "programme_key": episode.programme.key,
        "programme_version": episode.programme.version,
        "programme_title": episode.programme.title,
        "care_model": episode.care_model,
        "supporter": episode.supporter.user.display_name if episode.supporter else None,
        "status": episode.status,
        "started_at": episode.started_at,
        "ended_at": episode.ended_at,
    }


def row_out(row) -> dict:
    a = row.assignment
    return {
        "assignment_id": a.pk,
        "position": a.position,
        "module_key": row.module.key,
        "title": row.module.title,
        "minutes": row.module.minutes,
        "mandatory": row.module.mandatory,
        "is_addon": a.is_addon,
        "state": row.state.state.value,
        "opens_at": row.state.opens_at,
        "waiting_for": row.state.waiting_for,
        "pages_done": row.progress.done,
        "page_count": row.page_count,
        "waive_reason": a.waive_reason,
    }


def progress_out(progress) -> dict:
    return {"done": progress.done, "total": progress.total, "percent": progress.percent}


def homework_out(homework: Homework) -> dict:
    return {
        "id": homework.pk,
        "text": homework.text,
        "due_date": homework.due_date,
        "done": homework.done_at is not None,
    }


def plan_out(episode: Episode) -> dict:
    rows = selectors.plan_rows(episode)
    return {
        "episode": episode_out(episode),
        "modules": [row_out(r) for r in rows],
        "progress": progress_out(overall_progress([r.state for r in rows])),
    }


def own_patient(request) -> Patient:
    patient = request.auth.patient_or_none
    if patient is None:
        raise HttpError(403, "This is for patients.")
    return patient


def patient_for(request, patient_id: int, what: str) -> Patient:
    return policy.access_patient(request.auth, patient_id, what=what, request=request)


def tailoring_patient(request, patient_id: int) -> Patient:
    patient = patient_for(request, patient_id, "plan")
    if not policy.can_tailor_plan(request.auth):
        raise HttpError(403, "Only the patient's supporter or supervisor can do this.")
    return patient


def active_episode_or_404(patient: Patient) -> Episode:
    episode = selectors.active_episode(patient)
    if episode is None:
        raise Http404("Not found.")
    return episode


@router.get("/me/week", response=WeekOut, url_name="get_my_week")
def get_my_week(request):
    """The patient's week: what to do now, homework, exercises, next contact, progress."""
    week = selectors.patient_week(own_patient(request))
    contact = week.next_contact
    return {
        "episode": episode_out(week.episode) if week.episode else None,
        "next_module": row_out(week.next_row) if week.next_row else None,
        "homework": [homework_out(h) for h in week.homework],
        "exercises": [
            {"kind": e.kind, "assignment_id": e.row.assignment.pk, "page": e.page_position}
            for e in week.exercises
        ],
        "next_contact": {
            "scheduled_at": contact.scheduled_at,
            "kind": contact.kind,
            "supporter": contact.supporter.user.display_name if contact.supporter else None,
        }
        if contact
        else None,
        "progress": progress_out(week.progress) if week.progress else None,
    }


@router.post(
    "/me/plan/{assignment_id}/pages/{page_number}/complete",
    response=PageDoneOut,
    url_name="complete_page",
)
def complete_page(request, assignment_id: int, page_number: int):
    """Record that the patient finished a page of an open module (safe to retry)."""
    _episode, row = selectors.patient_assignment_row(own_patient(request), assignment_id)
    finished = services.page_complete(
        assignment=row.assignment,
        page_number=page_number,
        page_count=row.page_count,
        state=row.state.state,
    )
    return {
        "module_finished": finished,
        "pages_done": row.assignment.pages_done,
        "page_count": row.page_count,
    }


@router.post("/me/homework/{homework_id}", response=HomeworkOut, url_name="set_homework_done")
def set_homework_done(request, homework_id: int, payload: HomeworkDoneIn):
    patient = own_patient(request)
    homework = Homework.objects.filter(pk=homework_id, episode__patient=patient).first()
    if homework is None:
        raise Http404("Not found.")
    services.homework_set_done(homework=homework, done=payload.done)
    return homework_out(homework)


@router.get("/patients/{patient_id}/plan", response=PlanOut, url_name="get_plan")
def get_plan(request, patient_id: int):
    """The active episode's plan: the patient's own, or a patient of the care team's."""
    patient = patient_for(request, patient_id, "plan")
    return plan_out(active_episode_or_404(patient))


@router.post("/patients/{patient_id}/episodes", response={201: PlanOut}, url_name="start_episode")
def start_episode(request, patient_id: int, payload: EpisodeStartIn):
    patient = tailoring_patient(request, patient_id)
    programme = Programme.objects.filter(pk=payload.programme_id).first()
    if programme is None:
        raise ValidationError({"programme_id": ["No programme has this id."]})
    supporter = None
    if payload.supporter_id is not None:
        supporter = StaffProfile.objects.filter(
            pk=payload.supporter_id, service_id=patient.service_id
        ).first()
        if supporter is None:
            raise ValidationError({"supporter_id": ["Choose a supporter of the care team."]})
    episode = services.episode_start(
        patient=patient,
        programme=programme,
        care_model=payload.care_model,
        supporter=supporter,
        actor=request.auth,
        request=request,
    )
    return Status(201, plan_out(episode))


@router.post("/patients/{patient_id}/episodes/end", response=EpisodeOut, url_name="end_episode")
def end_episode(request, patient_id: int, payload: EpisodeEndIn):
    patient = tailoring_patient(request, patient_id)
    episode = active_episode_or_404(patient)
    services.episode_end(
        episode=episode, reason=payload.reason, actor=request.auth, request=request
    )
    return episode_out(episode)


PLAN_CHANGES = {
    "unlock": lambda a, p, r: services.plan_unlock(assignment=a, actor=r.auth, request=r),
    "skip": lambda a, p, r: services.plan_skip(assignment=a, actor=r.auth, request=r),
    "reinstate": lambda a, p, r: services.plan_reinstate(assignment=a, actor=r.auth, request=r),
    "waive": lambda a, p, r: services.plan_waive(
        assignment=a, reason=p.reason, actor=r.auth, request=r
    ),
    "move": lambda a, p, r: services.plan_move(
        assignment=a, position=p.position or 0, actor=r.auth, request=r
    ),
}


@router.post(
    "/patients/{patient_id}/plan/{assignment_id}/{action}", response=PlanOut, url_name="change_plan"
)
def change_plan(request, patient_id: int, assignment_id: int, action: str, payload: PlanChangeIn):
    """Tailor the plan: action is unlock, skip, waive (with reason), reinstate or move
    (with position)."""
    patient = tailoring_patient(request, patient_id)
    episode = active_episode_or_404(patient)
    assignment = (
        episode.assignments.select_related("module", "episode__patient")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or action not in PLAN_CHANGES:
        raise Http404("Not found.")
    PLAN_CHANGES[action](assignment, payload, request)
    return plan_out(episode)


@router.post("/patients/{patient_id}/plan/addons", response=PlanOut, url_name="add_addon_module")
def add_addon_module(request, patient_id: int, payload: AddonIn):
    patient = tailoring_patient(request, patient_id)
    episode = active_episode_or_404(patient)
    module = Module.objects.select_related("programme").filter(pk=payload.module_id).first()
    if module is None:
        raise ValidationError({"module_id": ["No module has this id."]})
    services.plan_add_addon(episode=episode, module=module, actor=request.auth, request=request)
    return plan_out(episode)


@router.post(
    "/patients/{patient_id}/homework", response={201: HomeworkOut}, url_name="set_homework"
)
def set_homework(request, patient_id: int, payload: HomeworkIn):
    patient = tailoring_patient(request, patient_id)
    episode = active_episode_or_404(patient)
    homework = services.homework_add(
        episode=episode, text=payload.text, actor=request.auth, due_date=payload.due_date
    )
    return Status(201, homework_out(homework))
