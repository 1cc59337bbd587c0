"""API operations of the measures app: instruments, due questionnaires, responses, scores,
outcomes and FHIR export."""

from django.conf import settings
from django.http import Http404
from ninja import Router, Status
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.care.models import Episode
from alliance.measures import fhir, selectors, services
from alliance.measures.instruments import Instrument
from alliance.measures.models import Response
from alliance.measures.schemas import (
    AnswersIn,
    InstrumentDetailOut,
    InstrumentOut,
    OutcomeOut,
    QuestionnaireOut,
    ResponseOut,
    SendIn,
)

router = Router(tags=["measures"])


def service_of(user):
    profile = user.staff_profile_or_none
    if profile is not None:
        return profile.service
    patient = user.patient_or_none
    if patient is None:
        raise HttpError(403, "You are not part of a service.")
    return patient.service


def instrument_out(instrument: Instrument, offered: bool) -> dict:
    return {
        "code": instrument.code,
        "name": instrument.name,
        "title": instrument.title,
        "kind": instrument.kind,
        "licensed": instrument.licensed,
        "licence": instrument.licence,
        "offered": offered,
    }


def item_out(item) -> dict:
    return {
        "number": item.number,
        "key": item.key,
        "text": item.text,
        "type": item.type,
        "options": [{"value": o.value, "label": o.label} for o in item.options],
    }


def response_out(response: Response, *, with_crisis: bool = False) -> dict:
    crisis = None
    if with_crisis and response.risk:
        crisis = response.patient.service.crisis_info or settings.ALLIANCE_DEFAULT_CRISIS_INFO
    return {
        "id": response.pk,
        "questionnaire_id": response.request_id,
        "instrument": response.instrument,
        "submitted_at": response.submitted_at,
        "total": response.total,
        "severity": response.severity,
        "risk": response.risk,
        "caseness": response.caseness,
        "item_scores": response.item_scores,
        "subscales": response.subscales,
        "mean": response.mean,
        "crisis_information": crisis,
    }


def own_patient(request) -> Patient:
    patient = request.auth.patient_or_none
    if patient is None:
        raise HttpError(403, "This is for patients.")
    return patient


@router.get("/instruments", response=list[InstrumentOut], url_name="list_instruments")
def list_instruments(request):
    """Every instrument of your service; `offered` says whether patients may be given it."""
    service = service_of(request.auth)
    licensed = services.licensed_codes(service)
    return [
        instrument_out(i, not i.licensed or code in licensed)
        for code, i in sorted(services.service_instruments(service).items())
    ]


def offered_instrument(request, code: str) -> Instrument:
    service = service_of(request.auth)
    instruments = services.service_instruments(service)
    if code not in instruments:
        raise Http404("Not found.")
    instrument = instruments[code]
    if instrument.licensed and code not in services.licensed_codes(service):
        # The wording of a copyrighted instrument is shown only where the licence is held.
        raise HttpError(403, f"Your service has not recorded a licence for {instrument.name}.")
    return instrument


@router.get("/instruments/{code}", response=InstrumentDetailOut, url_name="get_instrument")
def get_instrument(request, code: str):
    instrument = offered_instrument(request, code)
    return {
        **instrument_out(instrument, True),
        "stem": instrument.stem,
        "items": [item_out(i) for i in instrument.items],
        "difficulty": item_out(instrument.difficulty) if instrument.difficulty else None,
    }


@router.get("/instruments/{code}/fhir", url_name="get_instrument_fhir")
def get_instrument_fhir(request, code: str):
    """The instrument as a FHIR R4 Questionnaire."""
    return fhir.questionnaire_resource(offered_instrument(request, code))


@router.get(
    "/me/questionnaires", response=list[QuestionnaireOut], url_name="list_due_questionnaires"
)
def list_due_questionnaires(request):
    return selectors.due_questionnaires(own_patient(request))


@router.put(
    "/me/questionnaires/{questionnaire_id}/draft",
    response=QuestionnaireOut,
    url_name="save_questionnaire_draft",
)
def save_questionnaire_draft(request, questionnaire_id: int, payload: AnswersIn):
    """Keep answers given so far (blanks allowed); nothing is scored."""
    questionnaire = selectors.patient_request(own_patient(request), questionnaire_id)
    services.response_save_draft(
        request=questionnaire,
        answers=payload.answers,
        text_answers=payload.text_answers,
        difficulty=payload.difficulty,
    )
    questionnaire.refresh_from_db()
    return questionnaire


@router.post(
    "/me/questionnaires/{questionnaire_id}/response",
    response={200: ResponseOut, 201: ResponseOut},
    url_name="submit_questionnaire",
)
def submit_questionnaire(request, questionnaire_id: int, payload: AnswersIn):
    """Submit a complete questionnaire. Sending it again returns the stored response (200)
    rather than a second one. A risk answer returns the crisis information to show now."""
    questionnaire = selectors.patient_request(own_patient(request), questionnaire_id)
    response, created = services.response_submit(
        request=questionnaire,
        actor=request.auth,
        answers=payload.answers,
        text_answers=payload.text_answers,
        difficulty=payload.difficulty,
    )
    return Status(201 if created else 200, response_out(response, with_crisis=True))


def patient_for(request, patient_id: int, what: str) -> Patient:
    return policy.access_patient(request.auth, patient_id, what=what, request=request)


@router.get(
    "/patients/{patient_id}/responses", response=list[ResponseOut], url_name="list_responses"
)
def list_responses(request, patient_id: int, instrument: str | None = None):
    """Scored responses over time: your own, or a patient of your care team's."""
    patient = patient_for(request, patient_id, "scores")
    responses = selectors.responses_of(patient, instrument).select_related("patient__service")
    return [response_out(r) for r in responses]


@router.post(
    "/patients/{patient_id}/questionnaires",
    response={201: QuestionnaireOut},
    url_name="send_questionnaire",
)
def send_questionnaire(request, patient_id: int, payload: SendIn):
    patient = patient_for(request, patient_id, "scores")
    if not policy.can_send_questionnaires(request.auth):
        raise HttpError(403, "Only the care team can send questionnaires.")
    return Status(
        201,
        services.questionnaire_send(
            patient=patient, instrument=payload.instrument, actor=request.auth
        ),
    )


@router.get("/patients/{patient_id}/outcome", response=OutcomeOut, url_name="get_outcome")
def get_outcome(request, patient_id: int):
    """The NHS Talking Therapies outcome of the patient's latest episode (null where the
    rules leave a value undefined)."""
    patient = patient_for(request, patient_id, "outcome")
    episode = Episode.objects.filter(patient=patient).order_by("-started_at").first()
    if episode is None:
        raise Http404("Not found.")
    outcome = selectors.outcome_of(episode)
    return {"episode_id": episode.pk, **outcome.as_dict()}


@router.get("/patients/{patient_id}/fhir", url_name="export_patient_fhir")
def export_patient_fhir(request, patient_id: int, pseudonymous: bool = False):
    """The patient's responses as a FHIR R4 Bundle of QuestionnaireResponse and
    Observation resources (the export is audited)."""
    patient = patient_for(request, patient_id, "FHIR export")
    bundle = fhir.patient_bundle(
        patient,
        list(selectors.responses_of(patient)),
        instruments=services.service_instruments(patient.service),
        pseudonymous=pseudonymous,
    )
    audit_record(
        actor=request.auth,
        patient=patient,
        action=AuditAction.EXPORT,
        what="FHIR bundle",
        request=request,
    )
    return bundle
