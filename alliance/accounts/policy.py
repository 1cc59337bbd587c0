"""The access policy: who may see and change what. Every page and API operation asks here.

The rules, one place only:
- a patient sees only their own record;
- a supporter, digital navigator or supervisor sees the patients of their own teams;
- a service manager sees the patients of their own service;
- an administrator manages the accounts of their own service, and may open a patient's
  record there; like every staff read of clinical data, that read is audited;
- a researcher and a content author see no identifiable patient data at all.

``access_*`` functions are the only way to fetch a protected object. They answer "not
found" whether the object is missing or not yours, so a URL never tells that it exists.
"""

from django.db.models import QuerySet
from django.http import Http404

from alliance.accounts.models import TEAM_ROLES, Patient, Role, StaffProfile, User
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record

SERVICE_WIDE_ROLES = {Role.SERVICE_MANAGER, Role.ADMINISTRATOR}


def staff_role(user: User) -> str | None:
    profile = user.staff_profile_or_none if user.is_authenticated else None
    return profile.role if profile else None


def has_role(user: User, *roles: str) -> bool:
    return staff_role(user) in roles


def patients_visible_to(user: User) -> QuerySet[Patient]:
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    profile = user.staff_profile_or_none
    if profile is None:
        return Patient.objects.filter(user=user)
    if profile.role in TEAM_ROLES:
        return Patient.objects.filter(service_id=profile.service_id, team__staff=profile)
    if profile.role in SERVICE_WIDE_ROLES:
        return Patient.objects.filter(service_id=profile.service_id)
    return Patient.objects.none()


def access_patient(user: User, patient_id: int, *, what: str, request=None) -> Patient:
    """The patient if ``user`` may see them, else 404. A staff read is audited."""
    patient = (
        patients_visible_to(user)
        .select_related("user", "service", "team", "supporter__user")
        .filter(pk=patient_id)
        .first()
    )
    if patient is None:
        raise Http404("Not found.")
    if user.staff_profile_or_none is not None:
        audit_record(
            actor=user, patient=patient, action=AuditAction.READ, what=what, request=request
        )
    return patient


def can_manage_accounts(user: User) -> bool:
    return has_role(user, Role.ADMINISTRATOR)


def can_change_patient_care_team(user: User) -> bool:
    """Who may move a patient to another team or supporter."""
    return has_role(user, Role.SUPERVISOR, Role.SERVICE_MANAGER, Role.ADMINISTRATOR)


def staff_manageable_by(user: User) -> QuerySet[StaffProfile]:
    """The staff whose accounts ``user`` may manage (an administrator's own service)."""
    if not can_manage_accounts(user):
        return StaffProfile.objects.none()
    return StaffProfile.objects.filter(service_id=user.staff_profile.service_id)


def access_staff_account(user: User, profile_id: int) -> StaffProfile:
    profile = staff_manageable_by(user).select_related("user").filter(pk=profile_id).first()
    if profile is None:
        raise Http404("Not found.")
    return profile


def supporters_assignable_by(user: User, patient: Patient) -> QuerySet[StaffProfile]:
    """The supporters a patient may be given: active supporters of the patient's team."""
    if not can_change_patient_care_team(user):
        return StaffProfile.objects.none()
    return StaffProfile.objects.filter(
        service_id=patient.service_id,
        role=Role.SUPPORTER,
        teams=patient.team_id,
        user__is_active=True,
    ).select_related("user")


def can_tailor_plan(user: User) -> bool:
    """Who may start and end episodes and tailor a plan: the patient's clinicians."""
    return has_role(user, Role.SUPPORTER, Role.SUPERVISOR)


def is_patient(user: User) -> bool:
    return user.is_authenticated and user.patient_or_none is not None


def can_send_questionnaires(user: User) -> bool:
    return has_role(user, Role.SUPPORTER, Role.SUPERVISOR)


def can_act_on_alerts(user: User) -> bool:
    """Who may acknowledge an alert about a patient they can see (clinical staff)."""
    return has_role(user, Role.SUPPORTER, Role.SUPERVISOR, Role.SERVICE_MANAGER)


# Authored content holds no patient data: previewing it is for the people who write
# programmes and run the platform; reading it (the API) also for the staff who deliver or
# manage care (a supporter adds add-on modules).
CONTENT_PREVIEW_ROLES = (Role.CONTENT_AUTHOR, Role.ADMINISTRATOR)
CONTENT_READER_ROLES = (
    *CONTENT_PREVIEW_ROLES,
    Role.SUPPORTER,
    Role.DIGITAL_NAVIGATOR,
    Role.SUPERVISOR,
    Role.SERVICE_MANAGER,
)


def can_preview_content(user: User) -> bool:
    return user.is_active and has_role(user, *CONTENT_PREVIEW_ROLES)


def can_read_programmes(user: User) -> bool:
    return user.is_active and has_role(user, *CONTENT_READER_ROLES)


def can_comment_on_entries(user: User, patient: Patient) -> bool:
    """The patient's care team (their team's supporters, navigators and supervisors)."""
    return has_role(user, *TEAM_ROLES) and patients_visible_to(user).filter(pk=patient.pk).exists()


# Reviews and contacts.
REVIEW_QUEUE_ROLES = (
    Role.SUPPORTER,
    Role.DIGITAL_NAVIGATOR,
    Role.SUPERVISOR,
    Role.SERVICE_MANAGER,
    Role.ADMINISTRATOR,
)


def can_review(user: User) -> bool:
    """Who starts and completes reviews: the patient's clinicians (supporters and
    supervisors of the patient's team; the patient is fetched through the policy)."""
    return has_role(user, Role.SUPPORTER, Role.SUPERVISOR)


def can_book_contacts(user: User) -> bool:
    """Who books contacts and records their outcome: the same clinicians."""
    return has_role(user, Role.SUPPORTER, Role.SUPERVISOR)


def can_see_review_queue(user: User) -> bool:
    """Who sees the review queue: staff who see patients (digital navigators, service
    managers and administrators read it); researchers and content authors do not."""
    return has_role(user, *REVIEW_QUEUE_ROLES)


def can_set_review_schedule(user: User) -> bool:
    """Who changes the service's review schedule: its administrators."""
    return can_manage_accounts(user)
