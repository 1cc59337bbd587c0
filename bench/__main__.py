"""Run every benchmark in bench/ and print one line per figure.

Each ``bench/bench_*.py`` module has ``run() -> list[Figure]``. The benchmarks run against
a fresh test database made by Django's test runner machinery: SQLite by default, or
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
    from django.db import connection
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    modules = list(benchmark_modules(sys.argv[1:]))
    if not modules:
        print("no benchmarks yet")
    try:
        for module in modules:
            for figure in module.run():
                print(figure.line(), flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
