"""API operations of the research app."""

from ninja import Router

router = Router(tags=["research"])
