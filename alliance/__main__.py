"""The `alliance` command: Django's management commands with Alliance's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["alliance", *sys.argv[1:]])


if __name__ == "__main__":
    main()
