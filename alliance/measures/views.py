"""Pages of the measures app: the patient's questionnaires and scores; the care team's
scores page with sending, outcomes and risk alerts; the service's licences."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.care.selectors import active_episode
from alliance.insights.models import Alert, AlertState
from alliance.insights.services import alert_acknowledge
from alliance.measures import charts, selectors, services
from alliance.measures.forms import AcknowledgeForm, QuestionnaireForm, SendQuestionnaireForm
from alliance.measures.instruments import builtin_instruments
from alliance.measures.models import RequestStatus


def own_patient(request: HttpRequest) -> Patient:
    patient = request.user.patient_or_none
    if patient is None:
        raise Http404("Not found.")
    return patient


def crisis_text(patient: Patient) -> str:
    return patient.service.crisis_info or settings.ALLIANCE_DEFAULT_CRISIS_INFO


@login_required
def my_questionnaires(request: HttpRequest) -> HttpResponse:
    patient = own_patient(request)
    context = {
        "due": selectors.due_questionnaires(patient),
        "instruments": builtin_instruments(),
        "lines": charts.score_charts(selectors.score_lines(patient)),
    }
    return render(request, "measures/my_questionnaires.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def fill_in(request: HttpRequest, request_id: int) -> HttpResponse:
    patient = own_patient(request)
    questionnaire = selectors.patient_request(patient, request_id)
    if questionnaire.status == RequestStatus.COMPLETED:
        return redirect("measures:done", questionnaire.pk)
    if questionnaire.status == RequestStatus.CANCELLED:
        raise Http404("Not found.")
    instrument = services.instrument_for(patient.service, questionnaire.instrument)
    supporter = patient.supporter.user.display_name if patient.supporter else ""
    form = QuestionnaireForm(
        request.POST or None,
        instrument=instrument,
        supporter_name=supporter,
        initial=QuestionnaireForm.initial_from_draft(instrument, questionnaire.draft),
    )
    if request.method == "POST" and form.is_valid():
        try:
            if "save" in request.POST:
                services.response_save_draft(
                    request=questionnaire,
                    answers=form.answers(),
                    text_answers=form.text_answers(),
                    difficulty=form.difficulty(),
                )
                messages.success(request, _("Your answers are saved. You can finish later."))
                return redirect("care:week")
            services.response_submit(
                request=questionnaire,
                actor=request.user,
                answers=form.answers(),
                text_answers=form.text_answers(),
                difficulty=form.difficulty(),
            )
            return redirect("measures:done", questionnaire.pk)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    context = {"form": form, "instrument": instrument, "questionnaire": questionnaire}
    return render(request, "measures/fill_in.html", context, status=400 if form.errors else 200)


@login_required
def done(request: HttpRequest, request_id: int) -> HttpResponse:
    patient = own_patient(request)
    questionnaire = selectors.patient_request(patient, request_id)
    response = getattr(questionnaire, "response", None)
    if response is None:
        return redirect("measures:fill_in", questionnaire.pk)
    instrument = services.instrument_for(patient.service, questionnaire.instrument)
    band = instrument.band_for(response.total) if response.total is not None else None
    context = {
        "response": response,
        "instrument": instrument,
        "band": band,
        "crisis": crisis_text(patient) if response.risk else None,
    }
    return render(request, "measures/done.html", context)


# --- The care team ----------------------------------------------------------------------


def staff_patient(request: HttpRequest, patient_id: int) -> Patient:
    if policy.staff_role(request.user) is None:
        raise Http404("Not found.")
    return policy.access_patient(request.user, patient_id, what="scores", request=request)


def sendable_choices(patient: Patient) -> list[tuple[str, str]]:
    instruments = services.service_instruments(patient.service)
    licensed = services.licensed_codes(patient.service)
    return [
        (code, i.name)
        for code, i in sorted(instruments.items())
        if not i.licensed or code in licensed
    ]


def scores_context(request: HttpRequest, patient: Patient, **extra) -> dict:
    episode = active_episode(patient)
    context = {
        "patient": patient,
        "episode": episode,
        "lines": charts.score_charts(selectors.score_lines(patient)),
        "outcome": selectors.outcome_of(episode) if episode else None,
        "outstanding": selectors.due_questionnaires(patient),
        "alerts": list(Alert.objects.filter(patient=patient, state=AlertState.OPEN)),
        "send_form": SendQuestionnaireForm(choices=sendable_choices(patient)),
        "ack_form": AcknowledgeForm(),
        "instruments": builtin_instruments(),
    }
    context.update(extra)
    return context


@login_required
def patient_scores(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    return render(request, "measures/patient_scores.html", scores_context(request, patient))


@login_required
@require_POST
def send(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    if not policy.can_send_questionnaires(request.user):
        return HttpResponseForbidden(_("Only the care team can send questionnaires."))
    form = SendQuestionnaireForm(request.POST, choices=sendable_choices(patient))
    if form.is_valid():
        try:
            services.questionnaire_send(
                patient=patient, instrument=form.cleaned_data["instrument"], actor=request.user
            )
        except ValidationError as error:
            form.add_error("instrument", error.message_dict.get("instrument"))
        else:
            messages.success(request, _("The questionnaire is now on the patient's home page."))
            return redirect("measures:patient_scores", patient.pk)
    return render(
        request,
        "measures/patient_scores.html",
        scores_context(request, patient, send_form=form),
        status=400,
    )


@login_required
@require_POST
def acknowledge(request: HttpRequest, patient_id: int, alert_id: int) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    if not policy.can_act_on_alerts(request.user):
        return HttpResponseForbidden(_("Only the care team can acknowledge alerts."))
    alert = Alert.objects.filter(pk=alert_id, patient=patient).first()
    if alert is None:
        raise Http404("Not found.")
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            alert_acknowledge(
                alert=alert, actor=request.user, note=form.cleaned_data["note"], request=request
            )
        except ValidationError as error:
            form.add_error("note", error.message_dict["note"])
        else:
            messages.success(request, _("The alert is acknowledged and your note is kept."))
            return redirect("measures:patient_scores", patient.pk)
    return render(
        request,
        "measures/patient_scores.html",
        scores_context(request, patient, ack_form=form, ack_alert=alert.pk),
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def licences(request: HttpRequest) -> HttpResponse:
    if not policy.can_manage_accounts(request.user):
        return HttpResponseForbidden(_("Only an administrator can record licences."))
    service = request.user.staff_profile.service
    if request.method == "POST":
        try:
            services.licence_record(
                service=service,
                instrument=request.POST.get("instrument", ""),
                actor=request.user,
                note=request.POST.get("note", ""),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.message_dict["instrument"]))
        else:
            messages.success(request, _("The licence is recorded."))
        return redirect("measures:licences")
    held = services.licensed_codes(service)
    licensed = [(code, i) for code, i in sorted(builtin_instruments().items()) if i.licensed]
    return render(request, "measures/licences.html", {"licensed": licensed, "held": held})
