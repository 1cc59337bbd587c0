"""Reads of the measures app: due questionnaires, score histories, episode outcomes."""

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django.utils import timezone

from alliance.accounts.models import Patient
from alliance.care.models import Contact, ContactStatus, Episode
from alliance.measures.instruments import builtin_instruments
from alliance.measures.models import OPEN_STATUSES, QuestionnaireRequest, Response
from alliance.measures.outcomes import EpisodeOutcome, episode_outcome, reliable_change


def due_questionnaires(patient: Patient, *, now: datetime | None = None):
    """The questionnaires the patient can fill in now, most urgent first."""
    return list(
        QuestionnaireRequest.objects.filter(
            patient=patient, status__in=OPEN_STATUSES, available_from__lte=now or timezone.now()
        ).order_by("due_at")
    )


def patient_request(patient: Patient, request_id: int) -> QuestionnaireRequest:
    """One of the patient's own questionnaires; "not found" if it was not sent to them."""
    request = QuestionnaireRequest.objects.filter(pk=request_id, patient=patient).first()
    if request is None:
        raise Http404("Not found.")
    return request


def responses_of(patient: Patient, instrument: str | None = None):
    responses = Response.objects.filter(patient=patient).order_by("submitted_at")
    return responses.filter(instrument=instrument) if instrument else responses


@dataclass(frozen=True)
class ScoreLine:
    """One instrument's history for a patient, with reliable change from first to last."""

    instrument: str
    name: str
    responses: list[Response]
    change: str | None  # "improvement" / "no_reliable_change" / "deterioration"

    @property
    def latest(self) -> Response | None:
        return self.responses[-1] if self.responses else None


def score_lines(patient: Patient) -> list[ScoreLine]:
    """Every scored instrument the patient has answered, in one query."""
    by_instrument: dict[str, list[Response]] = {}
    for response in responses_of(patient).exclude(total=None):
        by_instrument.setdefault(response.instrument, []).append(response)
    instruments = builtin_instruments()
    lines = []
    for code, responses in by_instrument.items():
        definition = instruments.get(code)
        change = None
        if definition is not None and definition.reliable_change and len(responses) > 1:
            change = reliable_change(definition, responses[0].total, responses[-1].total)
            change = change.value if hasattr(change, "value") else str(change)
        lines.append(ScoreLine(code, definition.name if definition else code, responses, change))
    return sorted(lines, key=lambda line: line.instrument)


def attended_contacts(episode: Episode) -> int:
    return Contact.objects.filter(episode=episode, status=ContactStatus.ATTENDED).count()


def outcome_of(episode: Episode) -> EpisodeOutcome:
    """The episode's NHS Talking Therapies outcome from its stored scores."""
    totals = (
        Response.objects.filter(episode=episode, instrument__in=["phq9", "gad7"])
        .exclude(total=None)
        .order_by("submitted_at")
        .values_list("instrument", "total")
    )
    phq9 = [t for code, t in totals if code == "phq9"]
    gad7 = [t for code, t in totals if code == "gad7"]
    return episode_outcome(
        phq9_scores=phq9, gad7_scores=gad7, treatment_contacts=attended_contacts(episode)
    )
