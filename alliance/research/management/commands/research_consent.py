"""`alliance research_consent`: show the research consent text in force, or publish a new
version from a file. A published version is never changed; patients who agreed to an
older one keep their consent and are invited to read and agree to the new one."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.research import selectors, services


class Command(BaseCommand):
    help = _("Show the research consent text, or publish a new version from a file.")

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help=_("A UTF-8 text file with the new text."))
        parser.add_argument("--title", default="", help=_("The title of the new version."))

    def handle(self, *args, **options):
        if not options["file"]:
            document = selectors.consent_document_current()
            if document is None:
                raise CommandError(_("No research consent text is published."))
            self.stdout.write(f"v{document.version}: {document.title}\n\n{document.text}")
            return
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": path})
        current = selectors.consent_document_current()
        title = options["title"] or (current.title if current else "")
        try:
            document = services.consent_document_publish(
                title=title, text=path.read_text(encoding="utf-8")
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(_("Published version %(v)d.") % {"v": document.version})
