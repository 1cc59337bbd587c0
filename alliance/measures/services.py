"""Writes of the measures app: sending questionnaires, saving and submitting answers,
scheduling, licences and a service's own instruments.

A response is validated and scored in one transaction: either everything is stored (the
answers, the score, the request closed, the risk alert) or nothing is.
"""

import math
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, Service, User
from alliance.care.models import Contact, Episode
from alliance.measures import schedules
from alliance.measures.instruments import (
    Instrument,
    InstrumentFileError,
    UnknownInstrumentError,
    builtin_instruments,
    parse_instrument,
)
from alliance.measures.models import (
    OPEN_STATUSES,
    InstrumentLicence,
    QuestionnaireRequest,
    RequestStatus,
    Response,
    ServiceInstrument,
)
from alliance.measures.scoring import ScoringError, read_integer, score_answers

SENT_QUESTIONNAIRE_DUE = timedelta(days=7)


# --- Instruments ------------------------------------------------------------------------


def service_instruments(service: Service) -> dict[str, Instrument]:
    """The built-in instruments and the service's own, by code."""
    instruments = dict(builtin_instruments())
    for own in ServiceInstrument.objects.filter(service=service):
        instruments[own.code] = parse_instrument(own.source, source=f"{own.code}.yaml")
    return instruments


def instrument_for(service: Service, code: str) -> Instrument:
    instruments = service_instruments(service)
    if code not in instruments:
        raise UnknownInstrumentError(code, sorted(instruments))
    return instruments[code]


def licensed_codes(service: Service) -> set[str]:
    return set(
        InstrumentLicence.objects.filter(service=service).values_list("instrument", flat=True)
    )


def needs_licence() -> set[str]:
    return {code for code, i in builtin_instruments().items() if i.licensed}


def may_offer(service: Service, instrument: Instrument) -> bool:
    """A copyrighted instrument is offered only once the service records its licence."""
    return not instrument.licensed or instrument.code in licensed_codes(service)


@transaction.atomic
def licence_record(*, service: Service, instrument: str, actor: User, note: str = "") -> None:
    if instrument not in needs_licence():
        raise ValidationError({"instrument": _("This instrument needs no licence.")})
    InstrumentLicence.objects.get_or_create(
        service=service, instrument=instrument, defaults={"recorded_by": actor, "note": note}
    )


@transaction.atomic
def service_instrument_add(*, service: Service, source: str, filename: str) -> Instrument:
    """Validate a service's instrument file and keep it; a bad file changes nothing."""
    try:
        instrument = parse_instrument(source, source=filename)
    except InstrumentFileError as error:
        raise ValidationError({"file": [str(error)]}) from None
    if instrument.code in builtin_instruments():
        raise ValidationError(
            {"file": [f"{filename}: code: {instrument.code} is a built-in instrument"]}
        )
    ServiceInstrument.objects.update_or_create(
        service=service, code=instrument.code, defaults={"source": source}
    )
    return instrument


# --- Scheduling --------------------------------------------------------------------------


def episode_facts(episode: Episode) -> schedules.EpisodeFacts:
    contacts = tuple(
        schedules.ContactFact(c.pk, c.scheduled_at, c.status)
        for c in Contact.objects.filter(episode=episode).only("pk", "scheduled_at", "status")
    )
    completed = list(
        episode.assignments.filter(skipped_at=None, waived_at=None)
        .order_by("completed_at")
        .values_list("completed_at", flat=True)
    )
    half = math.ceil(len(completed) / 2) if completed else None
    finished = [c for c in completed if c is not None]
    middle = finished[half - 1] if half and len(finished) >= half else None
    return schedules.EpisodeFacts(
        started_at=episode.started_at,
        ended_at=episode.ended_at,
        problems=tuple(episode.programme.problems),
        contacts=contacts,
        middle_reached_at=middle,
    )


@transaction.atomic
def questionnaires_sync(episode: Episode) -> int:
    """Send what the schedule says is due and cancel what no longer applies. Idempotent:
    each (patient, instrument, occasion) is sent once. Returns how many were created."""
    patient = episode.patient
    planned = schedules.planned_questionnaires(
        episode_facts(episode),
        licensed=licensed_codes(patient.service),
        needs_licence=needs_licence(),
    )
    existing = set(
        QuestionnaireRequest.objects.filter(patient=patient).values_list("instrument", "occasion")
    )
    new = [p for p in planned if (p.instrument, p.occasion) not in existing]
    QuestionnaireRequest.objects.bulk_create(
        [
            QuestionnaireRequest(
                patient=patient,
                episode=episode,
                instrument=p.instrument,
                occasion=p.occasion,
                available_from=p.available_from,
                due_at=p.due_at,
            )
            for p in new
        ],
        ignore_conflicts=True,  # another worker sent the same occasion: one request stays
    )
    cancel_for_dropped_contacts(episode)
    return len(new)


def cancel_for_dropped_contacts(episode: Episode) -> None:
    dropped = set(
        Contact.objects.filter(episode=episode, status__in=["cancelled", "dna"]).values_list(
            "pk", flat=True
        )
    )
    if not dropped:
        return
    QuestionnaireRequest.objects.filter(
        episode=episode,
        status__in=OPEN_STATUSES,
        occasion__in=[f"contact:{pk}" for pk in dropped],
    ).update(status=RequestStatus.CANCELLED)


@transaction.atomic
def questionnaire_send(*, patient: Patient, instrument: str, actor: User) -> QuestionnaireRequest:
    """A member of staff sends a questionnaire now; due in a week."""
    try:
        definition = instrument_for(patient.service, instrument)
    except UnknownInstrumentError:
        raise ValidationError({"instrument": _("Choose one of the questionnaires.")}) from None
    if not may_offer(patient.service, definition):
        raise ValidationError(
            {
                "instrument": _(
                    "Your service has not recorded a licence for %(name)s, so it cannot be sent."
                )
                % {"name": definition.name}
            }
        )
    now = timezone.now()
    episode = Episode.objects.filter(patient=patient, status="active").first()
    return QuestionnaireRequest.objects.create(
        patient=patient,
        episode=episode,
        instrument=instrument,
        occasion=f"sent:{uuid.uuid4().hex}",
        available_from=now,
        due_at=now + SENT_QUESTIONNAIRE_DUE,
        sent_by=actor,
    )


# --- Answers -----------------------------------------------------------------------------


def answer_field(item_number: int) -> str:
    return f"q{item_number}"


def scoring_error_as_fields(error: ScoringError) -> ValidationError:
    """A scoring problem as a form error on the item it names."""
    if isinstance(error.item, int):
        field = answer_field(error.item)
        message = _("Question %(n)d: %(reason)s") % {"n": error.item, "reason": error.reason}
    elif error.item == "difficulty":
        field, message = "difficulty", _("Difficulty: %(reason)s") % {"reason": error.reason}
    else:
        field, message = "answers", str(error)
    return ValidationError({field: [message]})


def check_partial(instrument: Instrument, answers: list) -> list[int | None]:
    """Answers saved part-way: each given answer must be valid; blanks are allowed."""
    if len(answers) != len(instrument.items):
        raise ValidationError(
            {"answers": [_("Expected %(n)d answers.") % {"n": len(instrument.items)}]}
        )
    checked: list[int | None] = []
    for item, answer in zip(instrument.items, answers, strict=True):
        try:
            value = read_integer(answer)
        except ValueError as error:
            raise scoring_error_as_fields(
                ScoringError(item=item.number, reason=str(error))
            ) from None
        if value is not None and item.option_for(value) is None:
            low, high = item.answer_range
            raise scoring_error_as_fields(
                ScoringError(item=item.number, reason=f"{value} is out of range {low}–{high}")
            )
        checked.append(value)
    return checked


def refuse_closed(request: QuestionnaireRequest) -> None:
    if request.status == RequestStatus.CANCELLED:
        raise ValidationError({"answers": [_("This questionnaire was withdrawn.")]})


@transaction.atomic
def response_save_draft(
    *,
    request: QuestionnaireRequest,
    answers: list,
    text_answers: dict | None = None,
    difficulty=None,
) -> None:
    """Keep the answers given so far, to finish later. Nothing is scored."""
    locked = QuestionnaireRequest.objects.select_for_update().get(pk=request.pk)
    refuse_closed(locked)
    if locked.status == RequestStatus.COMPLETED:
        raise ValidationError({"answers": [_("This questionnaire is completed already.")]})
    instrument = instrument_for(locked.patient.service, locked.instrument)
    draft = {"text_answers": clean_text_answers(instrument, text_answers or {})}
    if instrument.is_scored:
        draft["answers"] = check_partial(instrument, answers)
        draft["difficulty"] = read_integer(difficulty) if difficulty not in (None, "") else None
    locked.draft = draft
    locked.status = RequestStatus.IN_PROGRESS
    locked.save(update_fields=["draft", "status"])


def clean_text_answers(instrument: Instrument, text_answers: dict) -> dict[str, str]:
    keys = {item.key for item in instrument.items if item.type == "text"}
    unknown = set(text_answers) - keys
    if unknown:
        raise ValidationError(
            {"answers": [_("Unknown question: %(key)s") % {"key": sorted(unknown)[0]}]}
        )
    return {k: str(v).strip()[:5000] for k, v in text_answers.items() if str(v).strip()}


@transaction.atomic
def response_submit(
    *,
    request: QuestionnaireRequest,
    actor: User,
    answers: list | None = None,
    text_answers: dict | None = None,
    difficulty=None,
) -> tuple[Response, bool]:
    """Score and store a completed questionnaire. A second submission of the same request
    (a retry, a double click) returns the stored response: one response, never two."""
    locked = (
        QuestionnaireRequest.objects.select_for_update()
        .select_related("patient__service")
        .get(pk=request.pk)
    )
    if locked.status == RequestStatus.COMPLETED:
        return Response.objects.get(request=locked), False
    refuse_closed(locked)
    instrument = instrument_for(locked.patient.service, locked.instrument)
    response = Response(
        request=locked,
        patient=locked.patient,
        episode=locked.episode,
        instrument=instrument.code,
        submitted_at=timezone.now(),
        submitted_by=actor,
    )
    if instrument.is_scored:
        fill_score(response, instrument, answers or [], difficulty)
    else:
        texts = clean_text_answers(instrument, text_answers or {})
        if not texts:
            raise ValidationError({"answers": [_("Answer at least one question.")]})
        response.text_answers = texts
    try:
        with transaction.atomic():
            response.save(force_insert=True)
    except IntegrityError:
        return Response.objects.get(request=locked), False
    locked.status = RequestStatus.COMPLETED
    locked.draft = None
    locked.save(update_fields=["status", "draft"])
    if response.risk:
        raise_risk_alert(response, instrument)
    return response, True


def fill_score(response: Response, instrument: Instrument, answers: list, difficulty) -> None:
    try:
        score = score_answers(instrument, answers, difficulty=difficulty)
    except ScoringError as error:
        raise scoring_error_as_fields(error) from None
    response.answers = [read_integer(a) for a in answers]
    response.difficulty = score.difficulty
    response.total = score.total
    response.severity = score.severity or ""
    response.risk = score.risk
    response.caseness = score.caseness
    response.item_scores = list(score.item_scores)
    response.subscales = dict(score.subscales)
    response.mean = score.mean


def raise_risk_alert(response: Response, instrument: Instrument) -> None:
    from alliance.insights.services import alert_raise

    items = [
        rule
        for rule in instrument.risk
        if response.item_scores[instrument.item(rule.item).number - 1] >= rule.min_score
    ]
    numbers = ", ".join(str(instrument.item(rule.item).number) for rule in items)
    alert_raise(
        patient=response.patient,
        kind="risk",
        cause=f"response:{response.pk}",
        summary=_("%(name)s risk item %(items)s answered positively (total %(total)s).")
        % {"name": instrument.name, "items": numbers, "total": response.total},
    )
