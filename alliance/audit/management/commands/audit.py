"""`alliance audit verify`: check the audit chain and say where it is broken."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.audit.models import AuditEntry
from alliance.audit.services import audit_verify


class Command(BaseCommand):
    help = _("Work with the audit log. 'verify' checks that no entry was changed or deleted.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        problems = audit_verify()
        if problems:
            for problem in problems:
                self.stderr.write(
                    _("Entry %(seq)s %(reason)s.") % {"seq": problem.seq, "reason": problem.reason}
                )
            raise CommandError(
                _("The audit chain is broken in %(n)d place(s).") % {"n": len(problems)}
            )
        count = AuditEntry.objects.count()
        self.stdout.write(_("The audit chain is intact: %(n)d entries verified.") % {"n": count})
