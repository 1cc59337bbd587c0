"""API operations of the messaging app."""

from ninja import Router

router = Router(tags=["messaging"])
