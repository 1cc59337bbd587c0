"""The WSGI application that ``alliance serve`` and gunicorn run."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
application = get_wsgi_application()

from alliance.lib.startup import settle_after_startup  # noqa: E402 - needs Django set up

settle_after_startup()
