"""What a server process does once, after loading Alliance and before its first request.

``settle_after_startup`` imports every view (through the URLconf), then moves everything
loaded so far out of the garbage collector's way (``gc.freeze``): those objects live as
long as the process, so a full collection need not scan them again on every request. A
request's pause for a full collection then scales with what the request made, not with
the size of Django and Alliance in memory.
"""

import gc

from django.urls import get_resolver


def settle_after_startup() -> None:
    get_resolver().url_patterns  # noqa: B018 - importing every view is the point
    gc.collect()
    gc.freeze()
