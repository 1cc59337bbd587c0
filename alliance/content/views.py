"""Pages of the content app: a read-only preview of the loaded programmes for authors.

Editing happens in the files of ``programs/``; these pages show what was loaded.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.utils.translation import gettext as _

from alliance.accounts.policy import can_preview_content
from alliance.content import selectors
from alliance.content.loader import CARE_MODELS
from alliance.content.markup import page_parts


def authors_only(request: HttpRequest) -> HttpResponse | None:
    if not can_preview_content(request.user):
        return HttpResponseForbidden(_("This page is for content authors."))
    return None


def care_model_titles(values: list[str]) -> list[str]:
    return [str(CARE_MODELS.get(value, value)) for value in values]


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    if (denied := authors_only(request)) is not None:
        return denied
    older = selectors.older_programme_versions()
    rows = [
        {
            "programme": programme,
            "care_models": care_model_titles(programme.care_models),
            "older": older.get(programme.key, []),
        }
        for programme in selectors.latest_programmes()
    ]
    return render(request, "content/programme_list.html", {"rows": rows})


@login_required
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    if (denied := authors_only(request)) is not None:
        return denied
    programme = selectors.programme_with_modules(programme_id)
    if programme is None:
        raise Http404("Not found.")
    modules = list(programme.modules.all())
    for module in modules:
        module.preview_pages = [
            {"page": page, "parts": page_parts(page.body_html)} for page in module.pages.all()
        ]
    context = {
        "programme": programme,
        "care_models": care_model_titles(programme.care_models),
        "modules": modules,
        "versions": selectors.programme_versions(programme.key),
    }
    return render(request, "content/programme_detail.html", context)
