"""`alliance instrument add --service SLUG FILE`: add a service's own instrument, and
`alliance instrument licence --service SLUG CODE`: record a copyrighted instrument's licence."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.accounts.models import Role, Service, StaffProfile
from alliance.measures import services


class Command(BaseCommand):
    help = _("Add a service's own instrument from a data file, or record a licence.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help=_("validate and add an instrument file"))
        add.add_argument("--service", required=True, help=_("the service's short name (slug)"))
        add.add_argument("file", type=Path)
        licence = sub.add_parser("licence", help=_("record that the service holds a licence"))
        licence.add_argument("--service", required=True)
        licence.add_argument("code")
        licence.add_argument("--note", default="")

    def handle(self, *args, **options):
        service = Service.objects.filter(slug=options["service"]).first()
        if service is None:
            raise CommandError(_("No service is called %(slug)s.") % {"slug": options["service"]})
        try:
            if options["action"] == "add":
                self.add(service, options["file"])
            else:
                self.licence(service, options["code"], options["note"])
        except ValidationError as error:
            messages = (m for ms in error.message_dict.values() for m in ms)
            raise CommandError(" ".join(messages)) from None

    def add(self, service: Service, path: Path) -> None:
        if not path.is_file():
            raise CommandError(_("%(path)s: no such file") % {"path": path})
        instrument = services.service_instrument_add(
            service=service, source=path.read_text(encoding="utf-8"), filename=path.name
        )
        self.stdout.write(
            _("Added %(name)s (%(code)s, %(n)d items) to %(service)s.")
            % {
                "name": instrument.name,
                "code": instrument.code,
                "n": len(instrument.items),
                "service": service.name,
            }
        )

    def licence(self, service: Service, code: str, note: str) -> None:
        admin = StaffProfile.objects.filter(service=service, role=Role.ADMINISTRATOR).first()
        if admin is None:
            raise CommandError(_("The service has no administrator to record the licence."))
        services.licence_record(service=service, instrument=code, actor=admin.user, note=note)
        self.stdout.write(
            _("Recorded the %(code)s licence for %(service)s.")
            % {"code": code, "service": service.name}
        )
