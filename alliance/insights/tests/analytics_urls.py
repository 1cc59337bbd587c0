"""The project's URLs, plus the analytics pages and API when they are not mounted yet.

The analytics' pages (``urls_analytics``) and API router (``api_analytics``) are mounted in
``alliance/urls.py`` and ``alliance/api.py`` by the project; until then the tests use this
URL configuration (``@pytest.mark.urls``), which adds them exactly as they will be mounted:
the pages at ``insights/analytics/`` and the operations under ``/api/v1/``.
"""

from django.urls import NoReverseMatch, include, path, reverse

from alliance import urls as project_urls
from alliance.api import AllianceApi, api


def _pages_mounted() -> bool:
    try:
        reverse("analytics:index", urlconf=project_urls)
    except NoReverseMatch:
        return False
    return True


def _api_has_analytics() -> bool:
    from alliance.insights.api_analytics import router

    return any(registered is router for _prefix, registered in api._routers)


urlpatterns = []
if not _api_has_analytics():
    from alliance.insights.api_analytics import router

    # A second API with the project's authentication and error handlers, holding only the
    # analytics operations; it comes first so its paths win.
    analytics_api = AllianceApi(
        title="Alliance API (analytics under test)",
        version="1-analytics-test",
        auth=api.auth,
        urls_namespace="analytics_api",
        docs_url=None,
        openapi_url=None,
    )
    analytics_api._exception_handlers = dict(api._exception_handlers)
    analytics_api.add_router("/", router)
    urlpatterns.append(path("api/v1/", analytics_api.urls))
urlpatterns += project_urls.urlpatterns
if not _pages_mounted():
    urlpatterns.append(path("insights/analytics/", include("alliance.insights.urls_analytics")))
