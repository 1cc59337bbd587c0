"""API operations of the content app: the loaded programmes, read-only."""

from typing import Literal

from django.http import Http404
from ninja import Router
from ninja.errors import HttpError

from alliance.accounts.policy import can_read_programmes
from alliance.content import selectors
from alliance.content.schemas import ProgrammeDetailOut, ProgrammeOut

router = Router(tags=["content"])


def require_reader(user) -> None:
    if not can_read_programmes(user):
        raise HttpError(403, "Programmes are for staff.")


@router.get("/programmes", response=list[ProgrammeOut], url_name="list_programmes")
def list_programmes(request, kind: Literal["programme", "addon"] | None = None):
    """The newest version of each programme; ``kind=addon`` for the add-on modules."""
    require_reader(request.auth)
    return list(selectors.latest_programmes(kind=kind))


@router.get("/programmes/{programme_id}", response=ProgrammeDetailOut, url_name="get_programme")
def get_programme(request, programme_id: int):
    """One programme version with its modules, their protocol guides and pages."""
    require_reader(request.auth)
    programme = selectors.programme_with_modules(programme_id)
    if programme is None:
        raise Http404("Not found.")
    return programme
