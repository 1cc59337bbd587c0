"""`alliance fhir questionnaire CODE` and `alliance fhir export --patient ID`: FHIR R4 JSON."""

import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.measures import fhir, selectors, services
from alliance.measures.instruments import UnknownInstrumentError, get_instrument


class Command(BaseCommand):
    help = _(
        "FHIR R4 export. 'alliance fhir questionnaire CODE' prints a built-in instrument as a "
        "Questionnaire; 'alliance fhir export --patient ID [--output FILE] [--pseudonymous]' "
        "writes the patient's responses as a Bundle (audited)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        questionnaire = actions.add_parser(
            "questionnaire", help=_("print an instrument as a FHIR Questionnaire")
        )
        questionnaire.add_argument("code", help=_("the instrument, e.g. phq9"))
        export = actions.add_parser("export", help=_("write a patient's responses as a Bundle"))
        export.add_argument("--patient", type=int, required=True, metavar="ID")
        export.add_argument(
            "--output", type=Path, metavar="FILE", help=_("write here instead of stdout")
        )
        export.add_argument(
            "--pseudonymous",
            action="store_true",
            help=_("identify the patient by pseudonym only: no name, e-mail or birth date"),
        )

    def handle(self, *args, **options):
        if options["action"] == "questionnaire":
            try:
                instrument = get_instrument(options["code"])
            except UnknownInstrumentError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(as_json(fhir.questionnaire_resource(instrument)))
            return
        self.export(options["patient"], options["output"], pseudonymous=options["pseudonymous"])

    def export(self, patient_id: int, output: Path | None, *, pseudonymous: bool) -> None:
        patient = Patient.objects.select_related("user", "service").filter(pk=patient_id).first()
        if patient is None:
            raise CommandError(_("No patient with id %(id)d.") % {"id": patient_id})
        responses = list(selectors.responses_of(patient))
        try:
            bundle = fhir.patient_bundle(
                patient,
                responses,
                instruments=services.service_instruments(patient.service),
                pseudonymous=pseudonymous,
            )
        except fhir.FhirExportError as error:
            raise CommandError(str(error)) from None
        # Recorded before the data leaves: an export that fails half-way is still on record.
        audit_record(
            actor=None,
            patient=patient,
            action=AuditAction.EXPORT,
            what="FHIR bundle",
            detail={"pseudonymous": pseudonymous, "responses": len(responses)},
        )
        text = as_json(bundle)
        if output is None:
            self.stdout.write(text)
            return
        try:
            write_private(output, text + "\n")
        except OSError as error:
            raise CommandError(
                _("Cannot write %(file)s: %(reason)s") % {"file": output, "reason": error.strerror}
            ) from None
        self.stdout.write(
            _("Wrote %(n)d response(s) of patient %(id)d to %(file)s.")
            % {"n": len(responses), "id": patient.pk, "file": output}
        )


def as_json(resource: dict) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False)


def write_private(path: Path, text: str) -> None:
    """Health data: a new file is readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
