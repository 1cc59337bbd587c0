"""Reads of the content app: programmes, their versions, modules and pages."""

from django.db.models import Count, OuterRef, QuerySet, Subquery

from alliance.content.models import Programme


def newest_version_of_key():
    return Subquery(
        Programme.objects.filter(key=OuterRef("key")).order_by("-version").values("version")[:1]
    )


def latest_programmes(kind: str | None = None) -> QuerySet[Programme]:
    """The newest version of each programme, with ``module_count``, in one query."""
    programmes = Programme.objects.filter(version=newest_version_of_key())
    if kind is not None:
        programmes = programmes.filter(kind=kind)
    return programmes.annotate(module_count=Count("modules")).order_by("title", "key")


def older_programme_versions() -> dict[str, list[Programme]]:
    """Every version that is not the newest of its programme, by key, newest first."""
    older = Programme.objects.exclude(version=newest_version_of_key()).order_by("key", "-version")
    versions: dict[str, list[Programme]] = {}
    for programme in older:
        versions.setdefault(programme.key, []).append(programme)
    return versions


def programme_versions(key: str) -> list[Programme]:
    """Every loaded version of one programme, newest first."""
    return list(Programme.objects.filter(key=key).only("id", "key", "version").order_by("-version"))


def programme_with_modules(programme_id: int) -> Programme | None:
    """One programme (any version) with its modules and their pages, in three queries."""
    return (
        Programme.objects.annotate(module_count=Count("modules"))
        .prefetch_related("modules__pages")
        .filter(pk=programme_id)
        .first()
    )
