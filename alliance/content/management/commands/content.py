"""`alliance content load [DIR]`: validate the programme folders and import new versions."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.content.loader import LOADED, ContentError, LoadReport
from alliance.content.services import content_load


class Command(BaseCommand):
    help = _(
        "Authored content. 'alliance content load [DIR]' validates every programme "
        "folder in DIR (default: programs/) and imports the versions not loaded yet; "
        "on any error it imports nothing."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("load", help=_("validate and import the programme folders"))
        load.add_argument(
            "directory",
            nargs="?",
            type=Path,
            metavar="DIR",
            help=_("the folder of programme folders (default: programs/)"),
        )

    def handle(self, *args, **options):
        directory = options["directory"] or Path(settings.BASE_DIR) / "programs"
        try:
            report = content_load(directory=directory)
        except ContentError as error:
            for message in error.errors:
                self.stderr.write(message)
            raise CommandError(
                _("Nothing was loaded: %(count)d problem(s) to fix.") % {"count": len(error.errors)}
            ) from None
        self.print_report(report)

    def print_report(self, report: LoadReport) -> None:
        if not report.programmes:
            self.stdout.write(_("No programmes found."))
        for programme in report.programmes:
            values = {
                "key": programme.key,
                "version": programme.version,
                "modules": programme.module_count,
                "pages": programme.page_count,
            }
            if programme.status == LOADED:
                line = (
                    _("%(key)s version %(version)d: loaded (%(modules)d modules, %(pages)d pages)")
                    % values
                )
                self.stdout.write(self.style.SUCCESS(line))
            else:
                line = (
                    _(
                        "%(key)s version %(version)d: unchanged (%(modules)d modules, "
                        "%(pages)d pages)"
                    )
                    % values
                )
                self.stdout.write(line)
