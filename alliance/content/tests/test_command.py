"""`alliance content load [DIR]`: its report, its errors, and the real programs/ folder."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from alliance.content.models import Programme
from alliance.content.tests.programme_files import write_programme


def run_load(*args) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("content", "load", *map(str, args), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.mark.django_db
class TestContentLoadCommand:
    def test_it_prints_what_it_loaded(self, programs):
        stdout, stderr = run_load(write_programme(programs))
        assert stdout == "test-programme version 1: loaded (2 modules, 3 pages)\n"
        assert stderr == ""
        assert Programme.objects.count() == 1

    def test_it_prints_unchanged_programmes(self, programs):
        run_load(write_programme(programs))
        stdout, _ = run_load(programs)
        assert stdout == "test-programme version 1: unchanged (2 modules, 3 pages)\n"
        assert Programme.objects.count() == 1

    def test_it_says_when_there_is_nothing_to_load(self, programs):
        stdout, _ = run_load(programs)
        assert stdout == "No programmes found.\n"

    def test_it_prints_every_error_and_loads_nothing(self, programs):
        write_programme(
            programs,
            "test-programme",
            ("programme.yaml", "minutes: 20", "minutes: 0"),
            ("01-first.md", "thought_record", "diary"),
        )
        write_programme(programs, "z-good", ("programme.yaml", "key: test-programme", "key: good"))
        stderr = StringIO()
        with pytest.raises(CommandError, match=r"Nothing was loaded: 2 problem\(s\) to fix\."):
            call_command("content", "load", str(programs), stdout=StringIO(), stderr=stderr)
        assert stderr.getvalue().splitlines() == [
            "programs/test-programme/programme.yaml:13: modules[1].minutes: must be a whole "
            "number of 1 or more (got 0)",
            "programs/test-programme/01-first.md:17: pages[1].exercise: unknown exercise "
            "'diary' (one of: activity_plan, thought_record, goal_plan, problem_solving, "
            "journal)",
        ]
        assert Programme.objects.count() == 0

    def test_it_reads_programs_in_the_project_by_default(self, programs, settings):
        settings.BASE_DIR = programs.parent
        write_programme(programs)
        stdout, _ = run_load()
        assert "test-programme version 1: loaded" in stdout

    def test_it_exits_with_status_1_on_errors(self, programs, tmp_path):
        write_programme(
            programs, "test-programme", ("programme.yaml", "kind: programme", "kind: course")
        )
        # A data folder of its own, so the real command never touches the project's data.
        env = {**os.environ, "ALLIANCE_DATA_DIR": str(tmp_path / "data")}
        result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "alliance", "content", "load", str(programs)],
            capture_output=True,
            text=True,
            env=env,
            cwd=settings.BASE_DIR,
            timeout=120,
        )
        assert result.returncode == 1
        lines = result.stderr.splitlines()
        assert lines[0] == (
            "programs/test-programme/programme.yaml:5: kind: must be one of: "
            "programme, addon (got 'course')"
        )
        assert "Nothing was loaded" in lines[-1]


@pytest.mark.django_db
class TestRealProgrammes:
    def test_it_loads_the_programs_folder_without_errors(self):
        """Fails with every content error, one per line, for the programme writers."""
        stdout, stderr = StringIO(), StringIO()
        try:
            call_command("content", "load", stdout=stdout, stderr=stderr)
        except CommandError as error:
            pytest.fail(f"programs/ has content errors:\n{stderr.getvalue()}{error}")
        print(stdout.getvalue())
        assert Programme.objects.count() >= 1
        assert "loaded" in stdout.getvalue()
