"""Writes of the content app: loading the programme folders."""

from pathlib import Path

from django.db import transaction

from alliance.content.loader import LoadReport, import_programmes, read_programmes


def content_load(*, directory: Path) -> LoadReport:
    """Validate every programme folder in ``directory``, then import the new versions.

    All or nothing: any problem raises ``ContentError`` listing them all, and nothing
    is imported.
    """
    programmes = read_programmes(directory)
    with transaction.atomic():
        return import_programmes(programmes)
