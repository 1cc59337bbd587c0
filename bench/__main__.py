"""Run every benchmark in bench/ and print one line per figure.

Each ``bench/bench_*.py`` module has ``run() -> list[Figure]``. Each module runs against a
fresh test database of its own, made by Django's test runner machinery: SQLite by default, or
PostgreSQL when DATABASE_URL points there. Output: ``name: value unit (target ...)``.
``python -m bench support insights`` runs only the modules whose names contain a word given.
"""

import importlib
import os
import pkgutil
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str

    def line(self) -> str:
        return f"{self.name}: {self.value:,.1f} {self.unit} (target {self.target})"


def benchmark_modules(only: list[str]):
    import bench

    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        wanted = not only or any(word in info.name for word in only)
        if info.name.startswith("bench_") and wanted:
            yield importlib.import_module(f"bench.{info.name}")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    os.environ.setdefault("ALLIANCE_TESTING", "1")
    import django
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()
    modules = list(benchmark_modules(sys.argv[1:]))
    if not modules:
        print("no benchmarks yet")
    for module in modules:
        for figure in run_alone(module):
            print(figure.line(), flush=True)
    return 0


def run_alone(module) -> list[Figure]:
    """A module's figures, measured in a database of its own: what one benchmark loads
    (a million responses, say) must not slow the next one down, nor be counted by it."""
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return module.run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
