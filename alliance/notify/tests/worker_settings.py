"""Settings of the workers that test_worker.py starts and kills: Alliance's own settings,
with e-mail written one file per message (slowly, like a real mail server) to
NOTIFY_TEST_MAIL_DIR, so the test sees each e-mail sent and can kill a worker mid-batch."""

from alliance.settings import *  # noqa: F403

EMAIL_BACKEND = "alliance.notify.tests.worker_scenario.SlowFileBackend"
