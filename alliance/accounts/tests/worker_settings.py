"""Settings for the huey worker that test_tasks.py starts: Alliance's own settings, with
e-mail written to files in ALLIANCE_TEST_EMAIL_DIR so the test can see what was sent."""

import os

from alliance.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("ALLIANCE_TEST_EMAIL_DIR", "sent-mail")
