"""`alliance serve`: the web server and the background worker together, for one machine.

At scale run them apart instead: several `gunicorn alliance.wsgi` processes behind a proxy
and several `alliance run_huey` workers, all sharing PostgreSQL and Redis.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from alliance.accounts.management.commands.demo import DEMO_DOMAIN, DEMO_PASSWORD


class Command(BaseCommand):
    help = _("Start the web server and the background worker (stop both with Ctrl-C).")

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--web-workers", default=os.environ.get("WEB_WORKERS", "2"))

    def handle(self, *args, **options):
        address = f"{options['host']}:{options['port']}"
        python = sys.executable
        worker = subprocess.Popen([python, "-m", "alliance", "run_huey"])
        web = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "alliance.wsgi",
                "--bind",
                address,
                "--workers",
                options["web_workers"],
                "--access-logfile",
                "-",
            ]
        )
        self.print_welcome(address)
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stop["now"] and worker.poll() is None and web.poll() is None:
            time.sleep(0.5)
        for process in (web, worker):
            if process.poll() is None:
                process.terminate()
        for process in (web, worker):
            process.wait(timeout=20)
        failed = [p for p in (web, worker) if p.returncode not in (0, -signal.SIGTERM)]
        sys.exit(1 if failed and not stop["now"] else 0)

    def print_welcome(self, address: str) -> None:
        lines = [
            "",
            _("Alliance is running at http://%(address)s/") % {"address": address},
            _("API documentation: http://%(address)s/api/v1/docs") % {"address": address},
            _("Background worker: huey on %(storage)s")
            % {"storage": "Redis" if settings.REDIS_URL else "SQLite"},
        ]
        if not settings.PRODUCTION:
            lines += [
                "",
                _("Demo sign-ins (password for all: %(pw)s):") % {"pw": DEMO_PASSWORD},
                f"  patient:           patient01@{DEMO_DOMAIN} … patient30@{DEMO_DOMAIN}",
                f"  supporter:         supporter@{DEMO_DOMAIN}, supporter2@{DEMO_DOMAIN}",
                f"  digital navigator: navigator@{DEMO_DOMAIN}",
                f"  supervisor:        supervisor@{DEMO_DOMAIN}",
                f"  service manager:   manager@{DEMO_DOMAIN}",
                f"  researcher:        researcher@{DEMO_DOMAIN}",
                f"  content author:    author@{DEMO_DOMAIN}",
                f"  administrator:     admin@{DEMO_DOMAIN}",
                _(
                    "Staff two-factor code: run `.venv/bin/alliance demo --code`, or add the key "
                    "in the README to an authenticator app."
                ),
                _("Stop with Ctrl-C."),
                "",
            ]
        self.stdout.write("\n".join(lines))
