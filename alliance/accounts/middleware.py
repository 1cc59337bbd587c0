"""Request-wide rules for signed-in people: staff MFA, staff idle timeout, time zones."""

import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

IDLE_KEY = "alliance_last_seen"

# Pages a member of staff may reach before completing two-factor sign-in.
MFA_EXEMPT_URL_NAMES = {"sign_out", "mfa_setup", "mfa_verify"}


def is_signed_in_staff(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_care_staff)


def is_exempt_path(request) -> bool:
    path = request.path_info
    if path.startswith(("/static/", "/api/")):
        return True  # the API answers its own JSON errors for unverified staff
    match = request.resolver_match
    if match is None:
        from django.urls import Resolver404, resolve

        try:
            match = resolve(path)
        except Resolver404:
            return True
    return match.namespace == "accounts" and match.url_name in MFA_EXEMPT_URL_NAMES


class StaffMfaRequiredMiddleware:
    """Staff must set up and pass TOTP two-factor before any page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_signed_in_staff(request) and not request.user.is_verified():
            if not is_exempt_path(request):
                from alliance.accounts.services import has_confirmed_totp

                target = (
                    "accounts:mfa_verify"
                    if has_confirmed_totp(request.user)
                    else ("accounts:mfa_setup")
                )
                return redirect(reverse(target))
        return self.get_response(request)


class StaffIdleTimeoutMiddleware:
    """Sign staff out after ALLIANCE_STAFF_IDLE_MINUTES without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_signed_in_staff(request):
            now = time.time()
            last_seen = request.session.get(IDLE_KEY, now)
            if now - last_seen > settings.ALLIANCE_STAFF_IDLE_MINUTES * 60:
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after %(n)d minutes without activity.")
                    % {"n": settings.ALLIANCE_STAFF_IDLE_MINUTES},
                )
                return redirect(reverse("accounts:sign_in"))
            request.session[IDLE_KEY] = now
        return self.get_response(request)


class UserTimezoneMiddleware:
    """Show times in the signed-in person's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
