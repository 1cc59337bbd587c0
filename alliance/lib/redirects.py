"""Where to send a person back to after a form: only a page of this site."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The ``next`` parameter when it is a path on this site; otherwise ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or request.POST.get("page") or ""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return target
    return default
