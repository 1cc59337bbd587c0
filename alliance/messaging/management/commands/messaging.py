"""`alliance messaging load-templates`: add the starter message templates to a service's
library (all services unless ``--service``). Templates a service has already, edited or
not, are left as they are; running it again adds nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.accounts.models import Service
from alliance.messaging.services import templates_load_starters


class Command(BaseCommand):
    help = _("Messaging. 'load-templates' adds the starter message templates to a service.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load-templates"])
        parser.add_argument("--service", help=_("The service's slug (default: every service)."))

    def handle(self, *args, **options):
        services = Service.objects.order_by("slug")
        if options["service"]:
            services = services.filter(slug=options["service"])
            if not services.exists():
                raise CommandError(_("No service %(slug)s.") % {"slug": options["service"]})
        for service in services:
            added = templates_load_starters(service=service)
            self.stdout.write(
                _("%(service)s: %(n)d starter templates added.")
                % {"service": service.slug, "n": added}
            )
