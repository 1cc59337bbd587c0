"""Pages of the accounts app: sign-in, MFA, sign-in links, homes, people and security."""

import base64

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token

from alliance.accounts import forms, policy, services
from alliance.accounts.models import ApiToken
from alliance.lib.redirects import safe_next

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def locked_out(request, credentials, *args, **kwargs) -> HttpResponse:
    """What django-axes shows after too many failed sign-ins."""
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


def next_page(request: HttpRequest) -> str:
    return safe_next(request, default=reverse("accounts:home"))


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = forms.SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend=MODEL_BACKEND)
        return redirect(next_page(request))
    return render(request, "accounts/sign_in.html", {"form": form, "next": next_page(request)})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:sign_in")


@require_http_methods(["GET", "POST"])
def sign_in_link_request(request: HttpRequest) -> HttpResponse:
    form = forms.EmailOnlyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.sign_in_link_send(email=form.cleaned_data["email"])
        return render(
            request, "accounts/sign_in_link_sent.html", {"email": form.cleaned_data["email"]}
        )
    return render(request, "accounts/sign_in_link_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm, POST signs in: e-mail scanners that follow links use GET only."""
    if request.method == "GET":
        return render(request, "accounts/sign_in_link_confirm.html", {"token": token})
    try:
        user = services.sign_in_link_redeem(raw=token)
    except services.LinkInvalid:
        return render(request, "accounts/sign_in_link_invalid.html", status=400)
    login(request, user, backend=MODEL_BACKEND)
    return redirect("accounts:home")


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    device = services.totp_device_pending(user=request.user)
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.totp_device_confirm(
            user=request.user, device=device, code=form.cleaned_data["code"]
        )
        if codes is None:
            form.add_error(
                "code",
                _(
                    "That code is not right. Enter the 6-digit code your "
                    "authenticator app shows now."
                ),
            )
        else:
            otp_login(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=5, dark="#1b2a3a")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(request, "accounts/mfa_setup.html", {"form": form, "qr": qr, "secret": secret})


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    if not services.has_confirmed_totp(request.user):
        return redirect("accounts:mfa_setup")
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].replace(" ", ""))
        if device is None:
            form.add_error(
                "code",
                _(
                    "That code is not right. Enter the current code from "
                    "your authenticator app, or one of your recovery codes."
                ),
            )
        else:
            otp_login(request, device)
            return redirect(next_page(request))
    return render(request, "accounts/mfa_verify.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.patient_or_none is not None:
        return redirect("care:week")  # a patient's home is their week
    profile = request.user.staff_profile_or_none
    if profile is None:
        return render(request, "accounts/home_nobody.html")
    context = {"profile": profile, "teams": profile.teams.all()}
    context["patient_count"] = policy.patients_visible_to(request.user).count()
    return render(request, "accounts/home_staff.html", context)


def staff_only(request: HttpRequest) -> HttpResponse | None:
    if policy.staff_role(request.user) is None:
        return HttpResponseForbidden(_("This page is for staff."))
    return None


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    if (denied := staff_only(request)) is not None:
        return denied
    patients = (
        policy.patients_visible_to(request.user)
        .select_related("user", "team", "supporter__user")
        .order_by("user__full_name")
    )
    context = {"patients": patients, "can_add": policy.can_manage_accounts(request.user)}
    if context["can_add"]:
        context["form"] = forms.PatientCreateForm(service=request.user.staff_profile.service)
    return render(request, "accounts/patient_list.html", context)


@login_required
@require_POST
def patient_create(request: HttpRequest) -> HttpResponse:
    if not policy.can_manage_accounts(request.user):
        return HttpResponseForbidden(_("Only an administrator can add patients."))
    service = request.user.staff_profile.service
    form = forms.PatientCreateForm(request.POST, service=service)
    if form.is_valid():
        try:
            patient = services.patient_create(
                service=service, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            services.sign_in_link_send(email=patient.user.email)
            messages.success(
                request,
                _("%(name)s was added and sent a sign-in link.") % {"name": patient.user.full_name},
            )
            return redirect("accounts:patient_detail", patient.pk)
    patients = policy.patients_visible_to(request.user).select_related("user", "team")
    return render(
        request,
        "accounts/patient_list.html",
        {"patients": patients, "form": form, "can_add": True},
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    if (denied := staff_only(request)) is not None:
        return denied
    patient = policy.access_patient(
        request.user, patient_id, what="patient record", request=request
    )
    supporters = policy.supporters_assignable_by(request.user, patient)
    form = None
    if policy.can_change_patient_care_team(request.user):
        initial = {"supporter": patient.supporter_id}
        form = forms.SupporterForm(request.POST or None, supporters=supporters, initial=initial)
        if request.method == "POST" and form.is_valid():
            services.patient_assign_supporter(
                actor=request.user,
                patient=patient,
                supporter=form.cleaned_data["supporter"],
                request=request,
            )
            messages.success(request, _("The named supporter was changed."))
            return redirect("accounts:patient_detail", patient.pk)
    elif request.method == "POST":
        return HttpResponseForbidden(_("You cannot change this patient's supporter."))
    return render(request, "accounts/patient_detail.html", {"patient": patient, "form": form})


def apply_errors(form, error: ValidationError) -> None:
    for field, field_errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    if not policy.can_manage_accounts(request.user):
        return HttpResponseForbidden(_("Only an administrator can manage staff accounts."))
    service = request.user.staff_profile.service
    form = forms.StaffCreateForm(request.POST or None, service=service)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.staff_create(service=service, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(name)s was added. They set a password with "
                    '"Forgotten your password?" on the sign-in page, '
                    "then set up two-factor sign-in."
                )
                % {"name": profile.user.full_name},
            )
            return redirect("accounts:staff_list")
    staff = (
        policy.staff_manageable_by(request.user)
        .select_related("user")
        .prefetch_related("teams")
        .order_by("user__full_name")
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/staff_list.html", {"staff": staff, "form": form}, status=status
    )


@login_required
@require_POST
def staff_set_active(request: HttpRequest, profile_id: int) -> HttpResponse:
    if not policy.can_manage_accounts(request.user):
        return HttpResponseForbidden(_("Only an administrator can manage staff accounts."))
    profile = policy.access_staff_account(request.user, profile_id)
    if profile.user_id == request.user.pk:
        messages.error(request, _("You cannot deactivate your own account."))
        return redirect("accounts:staff_list")
    active = request.POST.get("active") == "1"
    services.staff_set_active(actor=request.user, profile=profile, active=active)
    messages.success(
        request,
        (_("%(name)s can sign in again.") if active else _("%(name)s can no longer sign in."))
        % {"name": profile.user.full_name},
    )
    return redirect("accounts:staff_list")


@login_required
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    token_form = forms.ApiTokenForm(request.POST or None)
    context = {"token_form": token_form, "new_token": None, "codes": None}
    if request.method == "POST" and request.POST.get("action") == "token" and token_form.is_valid():
        _token, context["new_token"] = services.api_token_create(
            user=request.user, name=token_form.cleaned_data["name"]
        )
    elif request.method == "POST" and request.POST.get("action") == "recovery":
        if not request.user.is_care_staff:
            return HttpResponseForbidden()
        context["codes"] = services.recovery_codes_reset(user=request.user)
    context["tokens"] = ApiToken.objects.filter(user=request.user, revoked_at=None)
    context["is_staff_member"] = request.user.is_care_staff
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if services.api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, _("The token was revoked."))
    return redirect("accounts:security")


@login_required
@require_http_methods(["GET", "POST"])
def service_settings(request: HttpRequest) -> HttpResponse:
    if not policy.can_manage_accounts(request.user):
        return HttpResponseForbidden(_("Only an administrator can change the service's settings."))
    service = request.user.staff_profile.service
    form = forms.ServiceSettingsForm(
        request.POST or None, initial={"crisis_info": service.crisis_info}
    )
    if request.method == "POST" and form.is_valid():
        services.service_update_settings(
            service=service, actor=request.user, crisis_info=form.cleaned_data["crisis_info"]
        )
        messages.success(request, _("The service's settings are saved."))
        return redirect("accounts:service_settings")
    context = {
        "form": form,
        "service": service,
        "default_crisis": settings.ALLIANCE_DEFAULT_CRISIS_INFO,
    }
    return render(request, "accounts/service_settings.html", context)
