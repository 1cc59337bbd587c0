"""`alliance notify run-once`: find and deliver what is due now, here, without a worker;
`alliance notify vapid`: print the VAPID public key browsers subscribe with (``--new``
prints a fresh key pair to put in the environment of a production deployment)."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from alliance.notify import conf, services


class Command(BaseCommand):
    help = _("Reminders: deliver what is due now, or show the web push (VAPID) key.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run-once", help=_("find and deliver every reminder due now"))
        run.add_argument("--json", action="store_true", help=_("print the summary as JSON"))
        vapid = sub.add_parser("vapid", help=_("print the VAPID public key"))
        vapid.add_argument(
            "--new",
            action="store_true",
            help=_("print a new key pair as VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY lines"),
        )

    def handle(self, *args, **options):
        if options["action"] == "run-once":
            summary = services.reminders_run(inline=True)
            if options["json"]:
                self.stdout.write(json.dumps(summary, sort_keys=True))
            else:
                self.stdout.write(
                    _(
                        "%(due)d due, %(created)d reminders made, %(capped)d held back by a "
                        "limit; %(sent)d sent, %(failed)d failed."
                    )
                    % summary
                )
            return
        if options["new"]:
            private, public = conf.new_vapid_keys()
            self.stdout.write(f"VAPID_PRIVATE_KEY={private}\nVAPID_PUBLIC_KEY={public}")
            return
        self.stdout.write(conf.vapid_keys()[1])
