"""The one API of Alliance at /api/v1/: authentication, error handlers and app routers."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from alliance.lib.api_errors import (
    STATUS_MESSAGES,
    code_for_status,
    error_response,
    field_errors_from_ninja,
)

logger = logging.getLogger("alliance.api")


class SessionAuth(APIKeyCookie):
    """The browser's session; staff count only after two-factor sign-in. Checks CSRF."""

    param_name = "sessionid"

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or (user.is_care_staff and not user.is_verified()):
            return None  # no usable session: skip the CSRF check and let the token decide
        return super().__call__(request)  # checks CSRF, then authenticate()

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated:
            return None
        if user.is_care_staff and not user.is_verified():
            return None
        return user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer al_...`` with a personal token from the Security page."""

    def authenticate(self, request, token):
        from alliance.accounts.services import api_token_user

        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


class AllianceApi(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """Operations are named as verbs (list_patients), which are also their URL names."""
        return operation.view_func.__name__


api = AllianceApi(
    title="Alliance API",
    version="1",
    description="Human-supported and blended internet-delivered CBT.",
    auth=[SessionAuth(), TokenAuth()],
    urls_namespace="api",
)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc):
    return error_response(
        422, "invalid", "Some fields are not valid.", field_errors_from_ninja(exc.errors)
    )


@api.exception_handler(DjangoValidationError)
def on_domain_validation_error(request, exc):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
    return error_response(422, "invalid", "Some fields are not valid.", fields)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return error_response(401, "not_authenticated", STATUS_MESSAGES[401])


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return error_response(exc.status_code, code_for_status(exc.status_code), str(exc))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(404, "not_found", "Not found.")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return error_response(403, "forbidden", str(exc) or STATUS_MESSAGES[403])


@api.exception_handler(Exception)
def on_unexpected_error(request, exc):
    logger.exception("API error on %s", request.path)
    return error_response(500, "server_error", STATUS_MESSAGES[500])


def add_routers() -> None:
    from alliance.accounts.api import router as accounts_router
    from alliance.care.api import router as care_router
    from alliance.checkins.api import router as checkins_router
    from alliance.content.api import router as content_router
    from alliance.insights.api import router as insights_router
    from alliance.insights.api_analytics import router as insights_analytics_router
    from alliance.insights.api_support import router as support_router
    from alliance.measures.api import router as measures_router
    from alliance.messaging.api import router as messaging_router
    from alliance.notify.api import router as notify_router
    from alliance.research.api import router as research_router

    api.add_router("/", accounts_router)
    api.add_router("/", care_router)
    api.add_router("/", content_router)
    api.add_router("/", checkins_router)
    api.add_router("/", insights_router)
    api.add_router("/", insights_analytics_router)
    api.add_router("/", support_router)
    api.add_router("/", measures_router)
    api.add_router("/", notify_router)
    api.add_router("/", messaging_router)
    api.add_router("/", research_router)


add_routers()
