"""API operations of the accounts app: who am I, and the patients I may see."""

from django.core.exceptions import ValidationError
from ninja import Router
from ninja.errors import HttpError

from alliance.accounts import policy, services
from alliance.accounts.models import Patient
from alliance.accounts.schemas import MeOut, PatientOut, SupporterIn

router = Router(tags=["accounts"])


def patient_out(patient: Patient) -> dict:
    supporter = patient.supporter
    return {
        "id": patient.pk,
        "name": patient.user.full_name,
        "email": patient.user.email,
        "team": {"id": patient.team_id, "name": patient.team.name},
        "supporter": {"id": supporter.pk, "name": supporter.user.display_name}
        if supporter
        else None,
    }


@router.get("/me", response=MeOut, url_name="get_me")
def get_me(request):
    user = request.auth
    profile = user.staff_profile_or_none
    patient = user.patient_or_none
    service = profile.service if profile else (patient.service if patient else None)
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "time_zone": user.time_zone,
        "role": profile.role if profile else ("patient" if patient else "none"),
        "service": service.name if service else None,
        "patient_id": patient.pk if patient else None,
    }


@router.get("/patients", response=list[PatientOut], url_name="list_patients")
def list_patients(request):
    """The patients you may see: your own record, or your teams' or service's patients."""
    patients = (
        policy.patients_visible_to(request.auth)
        .select_related("user", "team", "supporter__user")
        .order_by("user__full_name")
    )
    return [patient_out(p) for p in patients]


@router.get("/patients/{patient_id}", response=PatientOut, url_name="get_patient")
def get_patient(request, patient_id: int):
    patient = policy.access_patient(
        request.auth, patient_id, what="patient record", request=request
    )
    return patient_out(patient)


@router.put(
    "/patients/{patient_id}/supporter", response=PatientOut, url_name="set_patient_supporter"
)
def set_patient_supporter(request, patient_id: int, payload: SupporterIn):
    """Name the patient's supporter (supervisors, service managers, administrators)."""
    patient = policy.access_patient(
        request.auth, patient_id, what="patient record", request=request
    )
    if not policy.can_change_patient_care_team(request.auth):
        raise HttpError(403, "You cannot change this patient's supporter.")
    supporter = None
    if payload.supporter_id is not None:
        supporters = policy.supporters_assignable_by(request.auth, patient)
        supporter = supporters.filter(pk=payload.supporter_id).first()
        if supporter is None:
            raise ValidationError(
                {"supporter_id": ["No supporter of this patient's care team has this id."]}
            )
    services.patient_assign_supporter(
        actor=request.auth, patient=patient, supporter=supporter, request=request
    )
    patient.refresh_from_db()
    return patient_out(patient)
