"""One JSON shape for every API error: {"error": {"code", "message", "fields"}}."""

from django.http import JsonResponse


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": str(message), "fields": fields or {}}}
    return JsonResponse(body, status=status)


STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}

STATUS_MESSAGES = {
    400: "The request could not be read.",
    401: "Sign in, or send a valid API token.",
    403: "You are not allowed to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    429: "Too many requests. Wait a while and try again.",
    500: "Something went wrong on our side. Nothing was changed.",
}


def code_for_status(status: int) -> str:
    return STATUS_CODES.get(status, "error")


def is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorShapeMiddleware:
    """Under /api/, turn any non-JSON error (a 404 of an unknown path, a 405, a CSRF
    failure, a server error page) into the one JSON error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith("/api/") or response.status_code < 400:
            return response
        if is_json(response):
            return response
        status = response.status_code
        shaped = error_response(
            status, code_for_status(status), STATUS_MESSAGES.get(status, "The request failed.")
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if response.has_header(header):
                shaped[header] = response[header]
        return shaped


def field_errors_from_ninja(errors: list[dict]) -> dict[str, list[str]]:
    """Name each field by the last part of its location (``body.payload.email`` → email)."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", []) if part not in ("body", "payload")]
        name = ".".join(location) or "body"
        fields.setdefault(name, []).append(error.get("msg", "Invalid value."))
    return fields
