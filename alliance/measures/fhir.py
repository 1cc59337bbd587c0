"""FHIR R4 export: an instrument as a Questionnaire, a patient's responses as a Bundle.

Pure functions that build plain, JSON-ready dicts following reference/measures.md §6: LOINC
codes from the instrument files, answer options with ``questionnaire-optionPrefix`` (the
answer as ticked) and ``ordinalValue`` (the keyed score, so the EPDS reverse keying is in
the data), Observations of category ``survey`` with ``derivedFrom`` the QuestionnaireResponse
and totals as ``valueQuantity`` in UCUM ``{score}``.

Where LOINC has no code (WAI-SR, WSAS, the EPDS items, own instruments) codes come from one
code system per instrument, ``https://alliance.invalid/fhir/CodeSystem/<instrument>``:
``<item>.<value>`` for an answer, ``total``, ``mean``, ``subscale.<key>``, ``severity.<key>``.
The ``.invalid`` domain (RFC 2606) never resolves: these URLs name things, nobody fetches them.

Responses are exported from their stored scores, never rescored. Resource ids are
deterministic (uuid5), so exporting the same patient twice gives the same Bundle.
"""

import uuid
from collections.abc import Iterable, Mapping

from alliance.accounts.models import Patient
from alliance.measures.instruments import Instrument, Item, Option
from alliance.measures.models import Response

BASE_URL = "https://alliance.invalid/fhir"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OPTION_PREFIX = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionPrefix"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
QUESTIONNAIRE_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
PSEUDONYM_SYSTEM = f"{BASE_URL}/sid/pseudonym"
PATIENT_ID_SYSTEM = f"{BASE_URL}/sid/patient"

SURVEY_CATEGORY = {
    "coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]
}
SCORE_UNIT = {"system": UCUM, "code": "{score}", "display": "{score}"}

# The namespace of every urn:uuid in a Bundle, itself derived from our base URL.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE_URL)


class FhirExportError(ValueError):
    """A response that cannot be exported as it stands; the message says which and why."""


# --- Names ------------------------------------------------------------------------------


def questionnaire_url(code: str) -> str:
    """The canonical URL of an instrument's Questionnaire."""
    return f"{BASE_URL}/Questionnaire/{code}"


def code_system(instrument: Instrument) -> str:
    """Our own code system for an instrument's codes that LOINC does not have."""
    return f"{BASE_URL}/CodeSystem/{instrument.code}"


def link_id(item: Item) -> str:
    """ "/44250-9" for an item with a LOINC code (as US Core does), else the item's key."""
    return f"/{item.loinc}" if item.loinc else item.key


def total_link_id(instrument: Instrument) -> str | None:
    """The total's item in the Questionnaire: only where LOINC codes the total."""
    total = instrument.loinc.total if instrument.loinc else None
    return f"/{total}" if total else None


def answer_coding(instrument: Instrument, item: Item, option: Option) -> dict:
    """The option's LOINC answer (LA) code, else ours. The display is the printed label."""
    if option.loinc:
        return {"system": LOINC, "code": option.loinc, "display": option.label}
    return {
        "system": code_system(instrument),
        "code": f"{item.key}.{option.value}",
        "display": option.label,
    }


def total_code(instrument: Instrument) -> dict:
    text = f"{instrument.name} total score"
    total = instrument.loinc.total if instrument.loinc else None
    if total:
        return {"coding": [{"system": LOINC, "code": total}], "text": text}
    return {"coding": [_own(instrument, "total", text)], "text": text}


def _own(instrument: Instrument, code: str, display: str) -> dict:
    return {"system": code_system(instrument), "code": code, "display": display}


def _loinc(code: str, text: str) -> dict:
    # No LOINC display: the reference gives only some of them, and a display must be
    # LOINC's own wording; our text goes in CodeableConcept.text instead.
    return {"coding": [{"system": LOINC, "code": code}], "text": text}


def _score(value: int | float) -> dict:
    return {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}


# --- Questionnaire ----------------------------------------------------------------------


def questionnaire_resource(instrument: Instrument) -> dict:
    """The instrument as a FHIR R4 Questionnaire (reference §6)."""
    resource = {
        "resourceType": "Questionnaire",
        "id": instrument.code,
        "url": questionnaire_url(instrument.code),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
    }
    if instrument.stem:
        resource["description"] = instrument.stem
    resource["copyright"] = instrument.licence
    if instrument.loinc and instrument.loinc.panel:
        resource["code"] = [{"system": LOINC, "code": instrument.loinc.panel}]
    resource["item"] = _questionnaire_items(instrument)
    return resource


def _questionnaire_items(instrument: Instrument) -> list[dict]:
    if not instrument.is_scored:
        return [
            {"linkId": link_id(item), "text": item.text, "type": "text", "required": False}
            for item in instrument.items
        ]
    items = [_choice_item(instrument, item, scored=True) for item in instrument.items]
    if instrument.difficulty:
        items.append(_choice_item(instrument, instrument.difficulty, scored=False))
    if total_link_id(instrument):
        items.append(
            {
                "extension": [{"url": QUESTIONNAIRE_UNIT, "valueCoding": SCORE_UNIT}],
                "linkId": total_link_id(instrument),
                "code": [{"system": LOINC, "code": instrument.loinc.total}],
                "text": f"{instrument.name} total score",
                "type": "decimal",
                "required": False,
                "readOnly": True,
            }
        )
    return items


def _choice_item(instrument: Instrument, item: Item, *, scored: bool) -> dict:
    entry: dict = {"linkId": link_id(item)}
    if item.loinc:
        entry["code"] = [{"system": LOINC, "code": item.loinc}]
    entry.update(text=item.text, type="choice", required=scored)
    entry["answerOption"] = [
        _answer_option(instrument, item, option, scored=scored) for option in item.options
    ]
    return entry


def _answer_option(instrument: Instrument, item: Item, option: Option, *, scored: bool) -> dict:
    # The prefix is the answer as ticked (reference §9.1): the index for the PHQ-9, GAD-7 and
    # EPDS, the 1-5 of the WAI-SR. The ordinal is the keyed score: summing the ordinals of the
    # chosen options gives the total, EPDS reverse keying included.
    extensions = [{"url": OPTION_PREFIX, "valueString": str(option.value)}]
    if scored:
        # The difficulty question has no ordinal: it is never added to the total.
        extensions.append({"url": ORDINAL_VALUE, "valueDecimal": option.score})
    return {"extension": extensions, "valueCoding": answer_coding(instrument, item, option)}


# --- Bundle -----------------------------------------------------------------------------


def patient_bundle(
    patient: Patient,
    responses: Iterable[Response],
    *,
    instruments: Mapping[str, Instrument],
    pseudonymous: bool = False,
) -> dict:
    """A ``collection`` Bundle: the Patient, then for each response its QuestionnaireResponse,
    an Observation of the total and, where LOINC codes every item (PHQ-9, GAD-7), a panel
    Observation whose members are the item Observations and the total.

    ``instruments`` are the definitions by code (``services.service_instruments``). With
    ``pseudonymous`` the Patient carries only the pseudonym: no name, e-mail or birth date.
    Questionnaires are referred to by canonical URL, not included.
    """
    ids = _Ids(patient, pseudonymous=pseudonymous)
    patient_url = ids.urn("Patient")
    entries = [_entry(patient_url, _patient_resource(patient, pseudonymous=pseudonymous))]
    for response in responses:
        if response.patient_id != patient.pk:
            raise FhirExportError(f"response {response.pk} is not a response of this patient")
        instrument = instruments.get(response.instrument)
        if instrument is None:
            raise FhirExportError(
                f"response {response.pk}: instrument {response.instrument!r} is not known"
            )
        entries.extend(_ResponseExport(response, instrument, patient, patient_url, ids).entries())
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


class _Ids:
    """Stable urn:uuid names. An identified and a pseudonymous export of the same patient
    share none, so the two cannot be joined by their ids; and the pseudonym cannot be worked
    back from an identified export (uuid5 is a one-way hash)."""

    def __init__(self, patient: Patient, *, pseudonymous: bool):
        kind = "pseudonymous" if pseudonymous else "identified"
        self.namespace = uuid.uuid5(_NAMESPACE, f"{kind}:{patient.pseudonym}")

    def urn(self, name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self.namespace, name)}"


def _entry(full_url: str, resource: dict) -> dict:
    return {"fullUrl": full_url, "resource": resource}


def _patient_resource(patient: Patient, *, pseudonymous: bool) -> dict:
    if pseudonymous:
        return {
            "resourceType": "Patient",
            "identifier": [{"system": PSEUDONYM_SYSTEM, "value": str(patient.pseudonym)}],
        }
    user = patient.user
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": str(patient.pk)}],
        "name": [{"text": user.full_name}],
        "telecom": [{"system": "email", "value": user.email}],
    }
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


class _ResponseExport:
    """The resources of one response."""

    def __init__(
        self,
        response: Response,
        instrument: Instrument,
        patient: Patient,
        patient_url: str,
        ids: _Ids,
    ):
        self.response = response
        self.instrument = instrument
        self.patient = patient
        self.subject = {"reference": patient_url}
        self.ids = ids
        self.prefix = f"response/{response.pk}"
        self.url = ids.urn(self.prefix)
        self.when = response.submitted_at.isoformat()

    def entries(self) -> list[dict]:
        entries = [_entry(self.url, self.questionnaire_response())]
        if not self.instrument.is_scored or self.response.total is None:
            return entries
        total_url = self.ids.urn(f"{self.prefix}/total")
        entries.append(_entry(total_url, self.total_observation()))
        if self.has_item_codes():
            members = [
                _entry(self.ids.urn(f"{self.prefix}/item/{link_id(item)}"), observation)
                for item, observation in self.item_observations()
            ]
            panel = self.panel_observation([e["fullUrl"] for e in members] + [total_url])
            entries.append(_entry(self.ids.urn(f"{self.prefix}/panel"), panel))
            entries.extend(members)
        return entries

    # QuestionnaireResponse

    def questionnaire_response(self) -> dict:
        resource = {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": questionnaire_url(self.instrument.code),
            "status": "completed",
            "subject": self.subject,
            "authored": self.when,
        }
        if self.response.submitted_by_id == self.patient.user_id:
            resource["source"] = self.subject
        resource["item"] = self.answered_items()
        return resource

    def answered_items(self) -> list[dict]:
        if not self.instrument.is_scored:
            texts = self.response.text_answers or {}
            return [
                self.answer_item(item, {"valueString": texts[item.key]})
                for item in self.instrument.items
                if texts.get(item.key)
            ]
        items = [
            self.answer_item(item, {"valueCoding": answer_coding(self.instrument, item, option)})
            for item, option in self.chosen()
        ]
        if self.response.total is not None and total_link_id(self.instrument):
            items.append(
                {
                    "linkId": total_link_id(self.instrument),
                    "answer": [{"valueDecimal": self.response.total}],
                }
            )
        return items

    def answer_item(self, item: Item, answer: dict) -> dict:
        entry = {"linkId": link_id(item)}
        # A copyrighted instrument's wording is licensed for showing to the service's
        # patients, not for passing on: its items are named by linkId only.
        if not self.instrument.licensed:
            entry["text"] = item.text
        entry["answer"] = [answer]
        return entry

    def chosen(self) -> list[tuple[Item, Option]]:
        """Each answered item with its ticked option, the difficulty question last."""
        answers = self.response.answers
        if len(answers) != len(self.instrument.items):
            raise self.mismatch(f"{len(answers)} answers for {len(self.instrument.items)} items")
        pairs = list(zip(self.instrument.items, answers, strict=True))
        if self.instrument.difficulty and self.response.difficulty is not None:
            pairs.append((self.instrument.difficulty, self.response.difficulty))
        chosen = []
        for item, value in pairs:
            option = item.option_for(value)
            if option is None:
                raise self.mismatch(f"{value!r} is not an option of {item.key}")
            chosen.append((item, option))
        return chosen

    def mismatch(self, reason: str) -> FhirExportError:
        # A service may have changed its own instrument since the response was stored.
        return FhirExportError(
            f"response {self.response.pk} does not fit the {self.instrument.code} "
            f"instrument: {reason}"
        )

    # Observations

    def observation(self, code: dict) -> dict:
        return {
            "resourceType": "Observation",
            "status": "final",
            "category": [SURVEY_CATEGORY],
            "code": code,
            "subject": self.subject,
            "effectiveDateTime": self.when,
        }

    def total_observation(self) -> dict:
        resource = self.observation(total_code(self.instrument))
        resource["valueQuantity"] = _score(self.response.total)
        band = next((b for b in self.instrument.severity if b.key == self.response.severity), None)
        if band:
            resource["interpretation"] = [
                {
                    "coding": [_own(self.instrument, f"severity.{band.key}", band.label)],
                    "text": band.label,
                }
            ]
        notes = self.risk_notes()
        if notes:
            resource["note"] = [{"text": note} for note in notes]
        components = self.components()
        if components:
            resource["component"] = components
        resource["derivedFrom"] = [{"reference": self.url}]
        return resource

    def risk_notes(self) -> list[str]:
        if not self.response.risk:
            return []
        notes = []
        for rule in self.instrument.risk:
            item = self.instrument.item(rule.item)
            if self.response.item_scores[item.number - 1] >= rule.min_score:
                notes.append(
                    f"Risk item {item.number} ({rule.reason}) answered positively: "
                    "a clinician must assess risk."
                )
        return notes

    def components(self) -> list[dict]:
        components = []
        for subscale in self.instrument.subscales:
            if subscale.key in self.response.subscales:
                code = _own(self.instrument, f"subscale.{subscale.key}", subscale.label)
                components.append(
                    {
                        "code": {"coding": [code], "text": subscale.label},
                        "valueQuantity": _score(self.response.subscales[subscale.key]),
                    }
                )
        if self.response.mean is not None:
            code = _own(self.instrument, "mean", "Mean item score")
            components.append(
                {
                    "code": {"coding": [code], "text": "Mean item score"},
                    "valueQuantity": _score(self.response.mean),
                }
            )
        return components

    def has_item_codes(self) -> bool:
        """Item Observations need LOINC for the panel and for every scored item."""
        loinc = self.instrument.loinc
        return bool(loinc and loinc.panel) and all(i.loinc for i in self.instrument.items)

    def item_observations(self) -> list[tuple[Item, dict]]:
        observations = []
        for item, option in self.chosen():
            if not item.loinc:
                continue  # a difficulty question without a LOINC code
            resource = self.observation(_loinc(item.loinc, item.text))
            resource["valueCodeableConcept"] = {
                "coding": [answer_coding(self.instrument, item, option)],
                "text": option.label,
            }
            resource["derivedFrom"] = [{"reference": self.url}]
            observations.append((item, resource))
        return observations

    def panel_observation(self, members: list[str]) -> dict:
        resource = self.observation(_loinc(self.instrument.loinc.panel, self.instrument.name))
        resource["hasMember"] = [{"reference": url} for url in members]
        resource["derivedFrom"] = [{"reference": self.url}]
        return resource
