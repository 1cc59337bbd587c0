"""System checks for settings that would make Alliance unsafe in production."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs):
    errors = []
    if not settings.PRODUCTION:
        return errors
    if settings.DEBUG:
        errors.append(Error("DEBUG must be off in production.", id="alliance.E001"))
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        errors.append(
            Error(
                "E-mail would be printed to the console: set EMAIL_HOST in production.",
                id="alliance.E002",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and not getattr(
        settings, "ALLOW_SQLITE_IN_PRODUCTION", False
    ):
        errors.append(
            Error(
                "Use PostgreSQL in production: set DATABASE_URL.",
                hint="Set ALLOW_SQLITE_IN_PRODUCTION=1 for a single-machine trial.",
                id="alliance.E003",
            )
        )
    return errors
