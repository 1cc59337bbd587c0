"""FHIR R4 export (reference §6): every resource validated with fhir.resources' R4B models."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from alliance.audit.models import AuditEntry
from alliance.measures import fhir, services
from alliance.measures.instruments import builtin_instruments, get_instrument
from alliance.measures.models import InstrumentLicence, Response
from alliance.measures.scoring import score_answers

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LOINC = "http://loinc.org"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
PREFIX = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionPrefix"

PHQ9 = [1, 0, 2, 1, 0, 1, 0, 1, 3]  # item 9 ticked "Nearly every day"; total 9
GAD7 = [1, 2, 1, 1, 0, 0, 1]  # item 2 ticked option 2; total 6
EPDS = [0, 1, 0, 2, 3, 3, 2, 3, 3, 3]  # item 3 ticked the top option, which scores 3
WAI_SR = [4, 4, 5, 3, 5, 4, 4, 3, 5, 4, 4, 4]


def submit(patient, actor, instrument, **answers):
    request = services.questionnaire_send(patient=patient, instrument=instrument, actor=actor)
    response, _ = services.response_submit(request=request, actor=patient.user, **answers)
    return response


@pytest.fixture
def responses(alice, sam):
    for code in ("epds", "wai-sr"):
        InstrumentLicence.objects.create(
            service=alice.service, instrument=code, recorded_by=sam.user
        )
    return [
        submit(alice, sam.user, "phq9", answers=PHQ9, difficulty=2),
        submit(alice, sam.user, "gad7", answers=GAD7),
        submit(alice, sam.user, "epds", answers=EPDS),
        submit(alice, sam.user, "wai-sr", answers=WAI_SR),
        submit(
            alice, sam.user, "feedback", text_answers={"calls_helped": "The calls kept me going"}
        ),
    ]


def bundle_of(patient, responses, *, pseudonymous=False):
    return fhir.patient_bundle(
        patient,
        responses,
        instruments=services.service_instruments(patient.service),
        pseudonymous=pseudonymous,
    )


def resources(bundle, resource_type):
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def questionnaire_response(bundle, code):
    url = fhir.questionnaire_url(code)
    [found] = [r for r in resources(bundle, "QuestionnaireResponse") if r["questionnaire"] == url]
    return found


def answer_of(questionnaire_response, link_id):
    [item] = [i for i in questionnaire_response["item"] if i["linkId"] == link_id]
    [answer] = item["answer"]
    return answer


def observations_coded(bundle, code):
    return [
        r
        for r in resources(bundle, "Observation")
        if any(c["code"] == code for c in r["code"]["coding"])
    ]


def item_of(questionnaire, link_id):
    [item] = [i for i in questionnaire["item"] if i["linkId"] == link_id]
    return item


def extension(element, url):
    [value] = [e for e in element["extension"] if e["url"] == url]
    return value


def references(value):
    """Every Reference.reference anywhere in a resource."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


class TestQuestionnaire:
    @pytest.mark.parametrize("code", sorted(builtin_instruments()))
    def test_it_is_a_valid_r4_questionnaire(self, code):
        resource = fhir.questionnaire_resource(get_instrument(code))

        Questionnaire.model_validate(resource)
        assert resource["id"] == code
        assert resource["url"] == f"https://alliance.invalid/fhir/Questionnaire/{code}"
        assert resource["status"] == "active"
        assert resource["copyright"] == get_instrument(code).licence
        link_ids = [item["linkId"] for item in resource["item"]]
        assert len(link_ids) == len(set(link_ids))

    def test_it_codes_the_phq9_with_loinc(self):
        resource = fhir.questionnaire_resource(get_instrument("phq9"))

        assert resource["code"] == [{"system": LOINC, "code": "44249-1"}]
        item9 = item_of(resource, "/44260-8")
        assert item9["code"] == [{"system": LOINC, "code": "44260-8"}]
        assert item9["type"] == "choice" and item9["required"] is True
        option3 = item9["answerOption"][3]
        assert option3["valueCoding"] == {
            "system": LOINC,
            "code": "LA6571-9",
            "display": "Nearly every day",
        }
        assert extension(option3, PREFIX)["valueString"] == "3"
        assert extension(option3, ORDINAL)["valueDecimal"] == 3

    def test_it_adds_the_difficulty_question_without_ordinals(self):
        resource = fhir.questionnaire_resource(get_instrument("phq9"))

        difficulty = item_of(resource, "/69722-7")
        assert difficulty["required"] is False
        assert [o["valueCoding"]["code"] for o in difficulty["answerOption"]] == [
            "LA6572-7",
            "LA6573-5",
            "LA6575-0",
            "LA6574-3",
        ]
        # Never added to the total, so a scorer summing ordinals cannot count it.
        assert all(e["url"] != ORDINAL for o in difficulty["answerOption"] for e in o["extension"])

    def test_it_adds_a_read_only_total_in_score_units(self):
        resource = fhir.questionnaire_resource(get_instrument("phq9"))

        total = resource["item"][-1]
        assert total["linkId"] == "/44261-6"
        assert total["code"] == [{"system": LOINC, "code": "44261-6"}]
        assert (total["type"], total["readOnly"]) == ("decimal", True)
        assert (
            extension(total, "http://hl7.org/fhir/StructureDefinition/questionnaire-unit")[
                "valueCoding"
            ]["code"]
            == "{score}"
        )

    def test_it_keeps_the_gad7_item_2_answer_code(self):
        resource = fhir.questionnaire_resource(get_instrument("gad7"))

        assert resource["code"] == [{"system": LOINC, "code": "69737-5"}]
        assert item_of(resource, "/68509-9")["answerOption"][2]["valueCoding"]["code"] == (
            "LA18938-3"
        )
        assert item_of(resource, "/70274-6")["type"] == "decimal"

    def test_it_puts_the_epds_reverse_keying_in_the_ordinals(self):
        resource = fhir.questionnaire_resource(get_instrument("epds"))

        item3 = item_of(resource, "q3")
        assert [extension(o, ORDINAL)["valueDecimal"] for o in item3["answerOption"]] == [
            3,
            2,
            1,
            0,
        ]
        assert [extension(o, PREFIX)["valueString"] for o in item3["answerOption"]] == [
            "0",
            "1",
            "2",
            "3",
        ]
        assert item3["answerOption"][0]["valueCoding"] == {
            "system": "https://alliance.invalid/fhir/CodeSystem/epds",
            "code": "q3.0",
            "display": "Yes, most of the time",
        }
        item1 = item_of(resource, "q1")
        assert [extension(o, ORDINAL)["valueDecimal"] for o in item1["answerOption"]] == [
            0,
            1,
            2,
            3,
        ]
        assert resource["code"] == [{"system": LOINC, "code": "71354-5"}]
        assert resource["item"][-1]["linkId"] == "/99046-5"

    @pytest.mark.parametrize("code, answers", [("epds", EPDS), ("phq9", PHQ9), ("wai-sr", WAI_SR)])
    def test_its_ordinals_add_up_to_the_score(self, code, answers):
        instrument = get_instrument(code)
        resource = fhir.questionnaire_resource(instrument)

        ordinals = []
        for item, answer in zip(instrument.items, answers, strict=True):
            # The prefix is the answer as ticked; its ordinal is the keyed score.
            options = item_of(resource, fhir.link_id(item))["answerOption"]
            [option] = [o for o in options if extension(o, PREFIX)["valueString"] == str(answer)]
            ordinals.append(extension(option, ORDINAL)["valueDecimal"])
        assert sum(ordinals) == score_answers(instrument, answers).total

    def test_it_has_no_total_item_without_a_total_code(self):
        resource = fhir.questionnaire_resource(get_instrument("wai-sr"))

        assert "code" not in resource
        assert [item["linkId"] for item in resource["item"]] == [f"q{n}" for n in range(1, 13)]

    def test_it_asks_survey_questions_as_free_text(self):
        resource = fhir.questionnaire_resource(get_instrument("feedback"))

        assert {item["type"] for item in resource["item"]} == {"text"}
        assert item_of(resource, "calls_helped")["required"] is False


class TestPatientBundle:
    def test_it_is_a_valid_r4_bundle_of_valid_resources(self, alice, responses):
        bundle = bundle_of(alice, responses)

        Bundle.model_validate(bundle)
        assert bundle["type"] == "collection"
        for entry in bundle["entry"]:
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            assert entry["fullUrl"].startswith("urn:uuid:")
        full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
        assert len(full_urls) == len(set(full_urls))
        assert len(resources(bundle, "QuestionnaireResponse")) == 5

    def test_it_answers_the_phq9_with_loinc_codes(self, alice, responses):
        bundle = bundle_of(alice, responses)

        phq9 = questionnaire_response(bundle, "phq9")
        assert phq9["status"] == "completed"
        assert phq9["authored"] == responses[0].submitted_at.isoformat()
        assert answer_of(phq9, "/44260-8")["valueCoding"] == {
            "system": LOINC,
            "code": "LA6571-9",
            "display": "Nearly every day",
        }
        assert answer_of(phq9, "/69722-7")["valueCoding"]["code"] == "LA6575-0"
        assert answer_of(phq9, "/44261-6") == {"valueDecimal": 9}

    def test_it_records_the_total_as_a_survey_observation(self, alice, responses):
        bundle = bundle_of(alice, responses)

        [total] = observations_coded(bundle, "44261-6")
        assert total["category"][0]["coding"][0]["code"] == "survey"
        assert total["valueQuantity"] == {
            "value": 9,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
        assert total["interpretation"][0]["text"] == "Mild"
        assert "Risk item 9" in total["note"][0]["text"]
        assert total["effectiveDateTime"] == responses[0].submitted_at.isoformat()
        [gad7_total] = observations_coded(bundle, "70274-6")
        assert gad7_total["valueQuantity"]["value"] == 6

    def test_it_groups_the_item_observations_in_a_panel(self, alice, responses):
        bundle = bundle_of(alice, responses)
        by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}

        [panel] = observations_coded(bundle, "44249-1")
        members = [by_url[member["reference"]] for member in panel["hasMember"]]
        codes = [member["code"]["coding"][0]["code"] for member in members]
        assert codes == [
            "44250-9",
            "44255-8",
            "44259-0",
            "44254-1",
            "44251-7",
            "44258-2",
            "44252-5",
            "44253-3",
            "44260-8",
            "69722-7",
            "44261-6",
        ]
        item9 = members[8]
        assert item9["valueCodeableConcept"]["coding"] == [
            {"system": LOINC, "code": "LA6571-9", "display": "Nearly every day"}
        ]
        [gad7_panel] = observations_coded(bundle, "69737-5")
        item2 = by_url[gad7_panel["hasMember"][1]["reference"]]
        assert item2["valueCodeableConcept"]["coding"][0]["code"] == "LA18938-3"

    def test_it_links_every_observation_to_its_questionnaire_response(self, alice, responses):
        bundle = bundle_of(alice, responses)
        by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}

        for observation in resources(bundle, "Observation"):
            [derived_from] = observation["derivedFrom"]
            assert by_url[derived_from["reference"]]["resourceType"] == "QuestionnaireResponse"
        for entry in bundle["entry"]:
            for reference in references(entry["resource"]):
                assert reference in by_url
        patient_url = bundle["entry"][0]["fullUrl"]
        assert {r["subject"]["reference"] for r in resources(bundle, "Observation")} == {
            patient_url
        }

    def test_it_exports_the_epds_as_ticked_with_its_keyed_total(self, alice, responses):
        bundle = bundle_of(alice, responses)

        epds = questionnaire_response(bundle, "epds")
        assert answer_of(epds, "q3")["valueCoding"]["code"] == "q3.0"
        # Copyrighted wording is not passed on: items are named by linkId only.
        assert all("text" not in item for item in epds["item"])
        stored = Response.objects.get(instrument="epds")
        assert answer_of(epds, "/99046-5") == {"valueDecimal": stored.total}
        [total] = observations_coded(bundle, "99046-5")
        assert total["valueQuantity"]["value"] == stored.total == 7
        assert total["component"][0]["code"]["coding"][0]["code"] == "subscale.anxiety_3a"
        assert not observations_coded(bundle, "71354-5")  # no item codes, so no panel

    def test_it_codes_the_wai_sr_total_in_our_own_code_system(self, alice, responses):
        bundle = bundle_of(alice, responses)

        [total] = observations_coded(bundle, "total")
        assert total["code"]["coding"][0]["system"] == (
            "https://alliance.invalid/fhir/CodeSystem/wai-sr"
        )
        assert total["valueQuantity"]["value"] == sum(WAI_SR)
        components = {
            c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in total["component"]
        }
        assert components == {
            "subscale.goal": 14,
            "subscale.task": 16,
            "subscale.bond": 19,
            "mean": pytest.approx(49 / 12),
        }

    def test_it_exports_survey_answers_as_text_without_observations(self, alice, responses):
        bundle = bundle_of(alice, responses)

        feedback = questionnaire_response(bundle, "feedback")
        assert feedback["item"] == [
            {
                "linkId": "calls_helped",
                "text": "In what ways did you find the calls with your supporter helpful?",
                "answer": [{"valueString": "The calls kept me going"}],
            }
        ]
        assert feedback["source"] == feedback["subject"]

    def test_it_gives_the_same_ids_every_time(self, alice, responses):
        first = bundle_of(alice, responses)
        again = bundle_of(alice, list(Response.objects.filter(patient=alice)))

        assert first == again

    def test_it_names_the_patient_when_identified(self, alice, responses):
        bundle = bundle_of(alice, responses)

        [patient] = resources(bundle, "Patient")
        assert patient["name"] == [{"text": "Alice Patient"}]
        assert patient["telecom"] == [{"system": "email", "value": "alice@patients.example"}]
        assert str(alice.pseudonym) not in json.dumps(bundle)

    def test_it_leaves_out_name_and_email_when_pseudonymous(self, alice, responses):
        bundle = bundle_of(alice, responses, pseudonymous=True)
        text = json.dumps(bundle)

        Bundle.model_validate(bundle)
        [patient] = resources(bundle, "Patient")
        assert patient == {
            "resourceType": "Patient",
            "identifier": [
                {
                    "system": "https://alliance.invalid/fhir/sid/pseudonym",
                    "value": str(alice.pseudonym),
                }
            ],
        }
        for personal in ("Alice", "alice@patients.example", "Sam Supporter"):
            assert personal not in text

    def test_it_shares_no_ids_between_identified_and_pseudonymous_exports(self, alice, responses):
        identified = {e["fullUrl"] for e in bundle_of(alice, responses)["entry"]}
        pseudonymous = {
            e["fullUrl"] for e in bundle_of(alice, responses, pseudonymous=True)["entry"]
        }

        assert identified.isdisjoint(pseudonymous)

    def test_it_refuses_a_response_of_another_patient(self, alice, bob, responses):
        with pytest.raises(fhir.FhirExportError, match="not a response of this patient"):
            bundle_of(bob, responses)

    def test_it_refuses_a_response_of_an_unknown_instrument(self, alice, responses):
        with pytest.raises(fhir.FhirExportError, match="instrument 'phq9' is not known"):
            fhir.patient_bundle(alice, responses, instruments={})


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("fhir", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class TestFhirCommand:
    def test_it_prints_a_questionnaire_as_json(self):
        out, _ = run("questionnaire", "gad7")

        questionnaire = Questionnaire.model_validate(json.loads(out))
        assert questionnaire.code[0].code == "69737-5"

    def test_it_refuses_an_unknown_instrument(self):
        with pytest.raises(CommandError, match="unknown instrument 'phq99'") as error:
            run("questionnaire", "phq99")
        assert error.value.returncode == 1

    def test_it_exports_a_patient_and_audits_the_export(self, alice, responses):
        out, _ = run("export", "--patient", str(alice.pk))

        bundle = json.loads(out)
        Bundle.model_validate(bundle)
        assert bundle == bundle_of(alice, responses)
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.what, entry.patient, entry.actor) == (
            "export",
            "FHIR bundle",
            alice,
            None,
        )
        assert entry.detail == {"pseudonymous": False, "responses": 5}

    def test_it_writes_a_pseudonymous_bundle_to_a_private_file(self, alice, responses, tmp_path):
        path = tmp_path / "alice.json"

        out, _ = run("export", "--patient", str(alice.pk), "--output", str(path), "--pseudonymous")

        assert "Wrote 5 response(s)" in out
        text = path.read_text(encoding="utf-8")
        assert json.loads(text) == bundle_of(alice, responses, pseudonymous=True)
        assert "Alice" not in text
        assert path.stat().st_mode & 0o777 == 0o600
        assert AuditEntry.objects.get().detail["pseudonymous"] is True

    def test_it_refuses_an_unknown_patient_without_auditing(self, db):
        with pytest.raises(CommandError) as error:
            run("export", "--patient", "999999")

        assert str(error.value) == "No patient with id 999999."
        assert error.value.returncode == 1
        assert not AuditEntry.objects.exists()


class TestFhirCommandProcess:
    """The real `alliance` command: its output and exit status."""

    def run_process(self, *args):
        paths = [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, paths)),
            "PYTHONIOENCODING": "utf-8",
        }
        return subprocess.run(  # noqa: S603  (fixed arguments, no shell)
            [sys.executable, "-m", "alliance", "fhir", *args],
            capture_output=True,
            encoding="utf-8",
            env=env,
            cwd=PROJECT_ROOT,
            timeout=60,
        )

    def test_it_prints_valid_json(self):
        process = self.run_process("questionnaire", "phq9")

        assert process.returncode == 0
        Questionnaire.model_validate(json.loads(process.stdout))

    def test_it_exits_with_status_1_and_a_message(self):
        process = self.run_process("questionnaire", "phq99")

        assert process.returncode == 1
        assert "unknown instrument 'phq99'" in process.stderr
