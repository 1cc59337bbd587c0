"""Reads shared by the analytics pages and API: who may see which analytics, and the
sources that apps built alongside this one provide once they land.

The access rules here are built only from ``alliance.accounts.policy`` and belong there
(they are kept here until they move): no other condition decides who sees what.
"""

import functools

from django.apps import apps
from django.db import connection
from django.db.models import Model

from alliance.accounts import policy
from alliance.accounts.models import Role, User
from alliance.insights.models import InsightSettings

# --- Access (built only from the policy; to move into accounts/policy.py) --------------

REPORT_ROLES = (Role.SERVICE_MANAGER, Role.ADMINISTRATOR)
TRAJECTORY_ROLES = (Role.SUPERVISOR, Role.SERVICE_MANAGER, Role.ADMINISTRATOR)
ALLIANCE_DROP_ROLES = (Role.SUPERVISOR, Role.SERVICE_MANAGER)


def can_read_service_report(user: User) -> bool:
    """Service managers and administrators: the report of their own service."""
    return user.is_active and policy.has_role(user, *REPORT_ROLES)


def can_read_trajectories(user: User) -> bool:
    """Supervisors (their teams' patients), service managers and administrators (their
    service's patients): always through ``policy.patients_visible_to``."""
    return user.is_active and policy.has_role(user, *TRAJECTORY_ROLES)


def can_see_alliance_drops(user: User) -> bool:
    """Supervisors and service managers: the patients whose alliance dropped."""
    return user.is_active and policy.has_role(user, *ALLIANCE_DROP_ROLES)


def can_change_insight_settings(user: User) -> bool:
    """Administrators set their service's alert and rupture thresholds."""
    return policy.can_manage_accounts(user)


# --- Sources that other apps add ---------------------------------------------------------


@functools.cache
def _table_exists(alias: str, table: str) -> bool:
    with connection.cursor() as cursor:
        return table in connection.introspection.table_names(cursor)


def optional_model(app_label: str, model_name: str) -> type[Model] | None:
    """The model when its app is installed and its table exists, else None.

    Messaging (and, before it, daily check-ins) are built alongside this app: until their
    tables are migrated the engagement record counts nothing from them rather than failing.
    The table check runs once per process.
    """
    if not apps.is_installed(f"alliance.{app_label}"):
        return None
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None
    return model if _table_exists(connection.alias, model._meta.db_table) else None


# --- Settings ---------------------------------------------------------------------------


def settings_for_service(service_id: int) -> InsightSettings:
    """The service's settings, or unsaved defaults when it never changed them."""
    found = InsightSettings.objects.filter(service_id=service_id).first()
    return found or InsightSettings(service_id=service_id)


def settings_by_service(service_ids) -> dict[int, InsightSettings]:
    """The settings of several services in one query (defaults for those without)."""
    wanted = set(service_ids)
    found = {s.service_id: s for s in InsightSettings.objects.filter(service_id__in=wanted)}
    return {sid: found.get(sid) or InsightSettings(service_id=sid) for sid in wanted}
