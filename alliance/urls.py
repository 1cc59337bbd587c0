from django.urls import include, path, re_path

from alliance.api import api
from alliance.lib.api_errors import error_response


def api_not_found(request, rest=""):
    return error_response(404, "not_found", "Not found.")


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("exercises/", include("alliance.checkins.urls")),
    path("", include("alliance.accounts.urls")),
    path("", include("alliance.care.urls")),
    path("", include("alliance.insights.urls_support")),
    path("", include("alliance.measures.urls")),
    path("content/", include("alliance.content.urls")),
    path("insights/analytics/", include("alliance.insights.urls_analytics")),
    path("insights/", include("alliance.insights.urls")),
    path("notifications/", include("alliance.notify.urls")),
    path("messages/", include("alliance.messaging.urls")),
    path("research/", include("alliance.research.urls")),
]
