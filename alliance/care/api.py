"""API operations of the care app: episodes, the plan and its tailoring, the week, reviews,
contacts and the patient's calendar."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Router, Status
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.accounts.models import Patient, StaffProfile
from alliance.care import ical, selectors, services
from alliance.care.models import Contact, Episode, Homework, Review
from alliance.care.plans import overall_progress
from alliance.care.schemas import (
    AddonIn,
    ContactBookIn,
    ContactOutcomeIn,
    ContactRecordOut,
    EpisodeEndIn,
    EpisodeOut,
    EpisodeStartIn,
    HomeworkDoneIn,
    HomeworkIn,
    HomeworkOut,
    PageDoneOut,
    PlanChangeIn,
    PlanOut,
    ReviewCompleteIn,
    ReviewDueOut,
    ReviewOut,
    ReviewStartIn,
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
        "next_contact": contact_out(contact) if contact else None,
        "progress": progress_out(week.progress) if week.progress else None,
        "review": review_note_out(week) if week.review_has_news else None,
    }


def review_note_out(week) -> dict:
    review = week.review
    return {
        "reviewer": review.reviewer.user.display_name,
        "completed_at": review.completed_at,
        "feedback": review.feedback if week.review_feedback_on_week else None,
        "next_steps": review.next_steps,
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


# --- Reviews ------------------------------------------------------------------------------


def reviewing_patient(request, patient_id: int) -> Patient:
    patient = patient_for(request, patient_id, "review")
    if not selectors.can_review(request.auth):
        raise HttpError(403, "Only the patient's supporter or supervisor can do this.")
    return patient


def review_out(review: Review) -> dict:
    return {
        "id": review.pk,
        "patient_id": review.episode.patient_id,
        "episode_id": review.episode_id,
        "reviewer": review.reviewer.user.display_name,
        "covers_from": review.covers_from,
        "opened_at": review.opened_at,
        "completed_at": review.completed_at,
        "feedback": review.feedback,
        "next_steps": review.next_steps,
        "minutes_spent": review.minutes_spent,
        "feedback_delivery": review.feedback_delivery,
        "homework": [homework_out(h) for h in review.homework.order_by("created_at", "pk")],
    }


@router.get("/reviews/due", response=list[ReviewDueOut], url_name="list_reviews_due")
def list_reviews_due(request):
    """The patients you may see who are due a review under their service's schedule, most
    overdue first (a supporter's own and their teams' patients; a service's for managers)."""
    if not selectors.can_see_review_queue(request.auth):
        raise Http404("Not found.")
    states = selectors.reviews_due(policy.patients_visible_to(request.auth))
    return [
        {
            "patient_id": s.patient.pk,
            "patient_name": s.patient.user.full_name,
            "episode_id": s.episode.pk,
            "care_model": s.episode.care_model,
            "supporter": s.episode.supporter.user.display_name if s.episode.supporter else None,
            "last_reviewed_at": s.last_reviewed_at,
            "due_at": s.due_at,
            "overdue_days": s.overdue_days,
            "review_open": s.open_since is not None,
        }
        for s in states
    ]


@router.post(
    "/patients/{patient_id}/reviews",
    response={200: ReviewOut, 201: ReviewOut},
    url_name="start_review",
)
def start_review(request, patient_id: int, payload: ReviewStartIn):
    """Open a review (its clock starts now): 201 when new, 200 with your review already
    open. A patient not due a review is refused unless ``anyway`` is true."""
    patient = reviewing_patient(request, patient_id)
    episode = active_episode_or_404(patient)
    review, created = services.review_start(
        episode=episode,
        reviewer=request.auth.staff_profile,
        anyway=payload.anyway,
        request=request,
    )
    return Status(201 if created else 200, review_out(review))


@router.post(
    "/patients/{patient_id}/reviews/{review_id}/complete",
    response=ReviewOut,
    url_name="complete_review",
)
def complete_review(request, patient_id: int, review_id: int, payload: ReviewCompleteIn):
    """Mark your review done with feedback, next steps and homework; without
    ``minutes_spent`` the time since it was opened is recorded (up to 60 minutes). Safe to
    retry: a review done already is returned unchanged."""
    patient = reviewing_patient(request, patient_id)
    review = (
        Review.objects.select_related("episode", "reviewer__user")
        .filter(pk=review_id, episode__patient=patient, reviewer__user=request.auth)
        .first()
    )
    if review is None:
        raise Http404("Not found.")
    done = services.review_complete(
        review=review,
        actor=request.auth,
        feedback=payload.feedback,
        next_steps=payload.next_steps,
        homework=payload.homework,
        minutes_spent=payload.minutes_spent,
        request=request,
    )
    done.reviewer = review.reviewer
    return review_out(done)


# --- Contacts -----------------------------------------------------------------------------


def contact_out(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "scheduled_at": contact.scheduled_at,
        "kind": contact.kind,
        "duration_minutes": contact.duration_minutes,
        "status": contact.status,
        "supporter": contact.supporter.user.display_name if contact.supporter else None,
    }


def contact_record_out(contact: Contact, homework: list[Homework]) -> dict:
    return contact_out(contact) | {
        "notes": contact.notes,
        "minutes_spent": contact.minutes_spent,
        "recorded_by": contact.recorded_by.display_name if contact.recorded_by else None,
        "recorded_at": contact.recorded_at,
        "homework": [homework_out(h) for h in homework],
    }


def care_team_patient(request, patient_id: int) -> Patient:
    """A patient's record for their care team; a patient uses their own calendar instead."""
    if policy.staff_role(request.auth) is None:
        raise HttpError(403, "This is for the care team.")
    return patient_for(request, patient_id, "contacts")


def booking_patient(request, patient_id: int) -> Patient:
    patient = care_team_patient(request, patient_id)
    if not selectors.can_book_contacts(request.auth):
        raise HttpError(403, "Only the patient's supporter or supervisor can do this.")
    return patient


@router.get(
    "/patients/{patient_id}/contacts", response=list[ContactRecordOut], url_name="list_contacts"
)
def list_contacts(request, patient_id: int):
    """The patient's contacts over all their episodes, newest first, with outcomes and
    the homework set in each."""
    patient = care_team_patient(request, patient_id)
    contacts = selectors.patient_contacts(patient)
    homework: dict[int, list[Homework]] = {}
    for item in Homework.objects.filter(contact__in=[c.pk for c in contacts]).order_by(
        "created_at", "pk"
    ):
        homework.setdefault(item.contact_id, []).append(item)
    return [contact_record_out(c, homework.get(c.pk, [])) for c in contacts]


@router.post(
    "/patients/{patient_id}/contacts",
    response={200: ContactRecordOut, 201: ContactRecordOut},
    url_name="book_contact",
)
def book_contact(request, patient_id: int, payload: ContactBookIn):
    """Book a contact in the patient's active episode. ``scheduled_at`` must carry its time
    zone; a time in the past or one overlapping another appointment of the same supporter
    is refused. Send a ``client_key`` so a retry books nothing twice (200 on a retry)."""
    patient = booking_patient(request, patient_id)
    episode = active_episode_or_404(patient)
    existing = (
        Contact.objects.filter(episode=episode, client_key=payload.client_key).exists()
        if payload.client_key
        else False
    )
    contact = services.contact_book(
        episode=episode,
        kind=payload.kind,
        scheduled_at=payload.scheduled_at,
        duration_minutes=payload.duration_minutes,
        actor=request.auth,
        client_key=payload.client_key,
        request=request,
    )
    return Status(200 if existing else 201, contact_record_out(contact, []))


@router.post(
    "/patients/{patient_id}/contacts/{contact_id}/outcome",
    response=ContactRecordOut,
    url_name="record_contact",
)
def record_contact(request, patient_id: int, contact_id: int, payload: ContactOutcomeIn):
    """Record a contact's outcome: ``attended`` (with notes and the homework set in it),
    ``dna`` (did not attend) or ``cancelled``."""
    patient = booking_patient(request, patient_id)
    contact = selectors.patient_contact(patient, contact_id)
    recorded = services.contact_record(
        contact=contact,
        status=payload.status,
        actor=request.auth,
        notes=payload.notes,
        minutes_spent=payload.minutes_spent,
        homework=payload.homework,
        request=request,
    )
    homework = list(recorded.homework.order_by("created_at", "pk"))
    recorded.supporter = contact.supporter
    return contact_record_out(recorded, homework)


@router.get("/me/contacts.ics", url_name="get_my_calendar")
def get_my_calendar(request):
    """The patient's upcoming contacts as an iCalendar file (text/calendar)."""
    patient = own_patient(request)
    body = ical.contacts_calendar(
        selectors.upcoming_contacts(patient), time_zone=request.auth.time_zone, now=timezone.now()
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointments.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
