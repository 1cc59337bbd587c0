"""`alliance score` and `alliance outcome` (reference §9.2, §9.3): exact JSON, exit status 2."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def run(*args):
    """Call a command as the code does; returns (stdout, stderr, exit status)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return out.getvalue(), err.getvalue(), exit_.code
    return out.getvalue(), err.getvalue(), 0


def run_json(*args):
    out, err, status = run(*args, "--json")
    assert (status, err) == (0, "")
    assert out.endswith("\n") and out.count("\n") == 1  # one JSON object and nothing else
    return json.loads(out)


class TestScoreCommand:
    def test_it_prints_the_phq9_score_as_json(self):
        assert run_json("score", "phq9", "1,1,1,1,1,1,1,1,1") == {
            "instrument": "phq9",
            "total": 9,
            "severity": "mild",
            "risk": True,
            "caseness": False,
            "item_scores": [1, 1, 1, 1, 1, 1, 1, 1, 1],
            "subscales": {},
            "mean": None,
        }

    def test_it_prints_null_and_empty_values_as_json_does(self):
        out, _, _ = run("score", "gad7", "0,0,0,0,0,0,0", "--json")

        assert out == (
            '{"instrument": "gad7", "total": 0, "severity": "minimal", "risk": false, '
            '"caseness": false, "item_scores": [0, 0, 0, 0, 0, 0, 0], "subscales": {}, '
            '"mean": null}\n'
        )

    def test_it_takes_the_difficulty_without_changing_the_total(self):
        result = run_json("score", "gad7", "2,1,1,1,1,1,1", "--difficulty", "3")

        assert result["total"] == 8
        assert result["severity"] == "mild"
        assert result["caseness"] is True

    def test_it_reverse_keys_the_epds(self):
        # Items 3, 5-10 score 3 - index: the top options give 3 on those seven items.
        assert run_json("score", "epds", "0,0,0,0,0,0,0,0,0,0") == {
            "instrument": "epds",
            "total": 21,
            "severity": "probable_depression",
            "risk": True,
            "caseness": None,
            "item_scores": [0, 0, 3, 0, 3, 3, 3, 3, 3, 3],
            "subscales": {"anxiety_3a": 6},
            "mean": None,
        }

    def test_it_reports_wai_sr_subscales_and_mean(self):
        assert run_json("score", "wai-sr", "1,2,3,4,5,1,2,3,4,5,1,2") == {
            "instrument": "wai-sr",
            "total": 33,
            "severity": None,
            "risk": False,
            "caseness": None,
            "item_scores": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2],
            "subscales": {"goal": 9, "task": 10, "bond": 14},
            "mean": 2.75,
        }

    def test_it_scores_the_wsas(self):
        result = run_json("score", "wsas", "2,2,2,2,2")

        assert (result["total"], result["severity"], result["caseness"]) == (
            10,
            "significant",
            None,
        )

    def test_it_prints_a_readable_summary_without_json(self):
        out, err, status = run("score", "phq9", "0,0,0,0,0,0,0,0,2", "--difficulty", "1")

        assert (status, err) == (0, "")
        assert "PHQ-9 total: 2 (range 0–27)" in out
        assert "Severity: Minimal" in out
        assert "Risk item positive: yes" in out
        assert "Item 9" in out
        assert "NHS Talking Therapies caseness (10 or more): no" in out
        assert "Difficulty: Somewhat difficult (not scored)" in out

    def test_it_prints_subscales_and_mean_in_the_summary(self):
        out, _, _ = run("score", "wai-sr", "5,5,5,5,5,5,5,5,5,5,5,4")

        assert "WAI-SR total: 59 (range 12–60)" in out
        assert "Subscale Task: 19" in out
        assert "Mean item score: 4.92" in out

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("phq9", "1,1,1,4,1,1,1,1,1"), "item 4: 4 is out of range 0–3"),
            (("phq9", "1,1,1,1,1,1,1,1"), "expected 9 answers, got 8"),
            (("phq9", "1,1,1,1,1,1,1,1,1,"), "expected 9 answers, got 10"),
            (("phq9", ""), "expected 9 answers, got 0"),
            (("phq9", "1,a,1,1,1,1,1,1,1"), "item 2: 'a' is not an integer"),
            (("phq9", "1,1,,1,1,1,1,1,1"), "item 3: no answer given"),
            (("gad7", "1,1,1,1,1,1,1", "--difficulty", "4"), "difficulty: 4 is out of range 0–3"),
            (
                ("epds", "0,0,0,0,0,0,0,0,0,0", "--difficulty", "1"),
                "difficulty: EPDS has no difficulty question",
            ),
            (("wai-sr", "0,3,3,3,3,3,3,3,3,3,3,3"), "item 1: 0 is out of range 1–5"),
            (("wai-sr", "3,3,3,3,3,3,3,3,3,3,3,6"), "item 12: 6 is out of range 1–5"),
            (("wsas", "1,1,1,1,9"), "item 5: 9 is out of range 0–8"),
            (("feedback", "a,b,c,d"), "Feedback is an open-ended survey and has no score"),
            (
                ("phq8", "1,1"),
                "unknown instrument 'phq8' (known: epds, feedback, gad7, phq9, wai-sr, wsas)",
            ),
        ],
    )
    def test_it_refuses_bad_input_with_one_line_and_status_2(self, args, message):
        out, err, status = run("score", *args, "--json")

        assert status == 2
        assert err == message + "\n"
        assert out == ""


class TestOutcomeCommand:
    def test_it_prints_the_six_flags_as_json(self):
        result = run_json("outcome", "--phq9", "15,12,8", "--gad7", "12,9,6", "--contacts", "6")

        assert result == {
            "finished_treatment": True,
            "at_caseness": True,
            "recovered": True,
            "reliably_improved": True,
            "reliably_deteriorated": False,
            "reliably_recovered": True,
        }

    def test_it_prints_null_where_section_5_2_leaves_a_flag_undefined(self):
        out, _, _ = run("outcome", "--phq9", "15,5", "--gad7", "12,4", "--contacts", "1", "--json")

        assert out == (
            '{"finished_treatment": false, "at_caseness": true, "recovered": null, '
            '"reliably_improved": null, "reliably_deteriorated": null, '
            '"reliably_recovered": null}\n'
        )

    def test_it_leaves_recovery_undefined_below_caseness(self):
        result = run_json("outcome", "--phq9", "9,2", "--gad7", "7,1", "--contacts", "4")

        assert result["at_caseness"] is False
        assert result["recovered"] is None
        assert result["reliably_recovered"] is None
        assert result["reliably_improved"] is True

    def test_it_takes_a_missing_measure_as_no_scores(self):
        result = run_json("outcome", "--phq9", "15,5", "--contacts", "3")

        assert result["at_caseness"] is True
        assert result["reliably_improved"] is None

    def test_it_prints_a_readable_summary_without_json(self):
        out, err, status = run("outcome", "--phq9", "15,8", "--gad7", "12", "--contacts", "3")

        assert (status, err) == (0, "")
        assert "Finished a course of treatment: yes" in out
        assert "Recovered: not defined" in out
        assert "PHQ-9 change, first to last: -7" in out
        assert "GAD-7 change, first to last: not defined" in out

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ("--phq9", "15,28", "--gad7", "12,6", "--contacts", "3"),
                "phq9 score 2: 28 is out of range 0–27",
            ),
            (
                ("--phq9", "15,8", "--gad7", "12,x", "--contacts", "3"),
                "gad7 score 2: 'x' is not an integer",
            ),
            (
                ("--phq9", "15,,8", "--gad7", "12,6", "--contacts", "3"),
                "phq9 score 2: no score given",
            ),
            (("--phq9", "15,8", "--gad7", "12,6", "--contacts", "-1"), "contacts: -1 is negative"),
            (
                ("--phq9", "15,8", "--gad7", "12,6", "--contacts", "two"),
                "contacts: 'two' is not an integer",
            ),
            (
                ("--phq9", "15,8", "--gad7", "12,6"),
                "contacts: the number of treatment contacts is required",
            ),
        ],
    )
    def test_it_refuses_bad_input_with_one_line_and_status_2(self, args, message):
        out, err, status = run("outcome", *args, "--json")

        assert status == 2
        assert err == message + "\n"
        assert out == ""


class TestCommandLine:
    """The commands as a shell runs them: exit status and streams of a real process."""

    def run_process(self, *args):
        paths = [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
        env["PYTHONIOENCODING"] = "utf-8"
        return subprocess.run(  # noqa: S603  (fixed arguments, no shell)
            [sys.executable, "-m", "alliance", *args],
            capture_output=True,
            encoding="utf-8",
            env=env,
            cwd=PROJECT_ROOT,
            timeout=60,
        )

    def test_it_prints_exactly_one_json_object(self):
        process = self.run_process("score", "phq9", "1,1,1,1,1,1,1,1,1", "--json")

        assert process.returncode == 0
        assert json.loads(process.stdout)["total"] == 9
        assert process.stdout.count("\n") == 1

    def test_it_exits_with_status_2_and_one_line_on_stderr(self):
        process = self.run_process("score", "phq9", "1,1,1,4,1,1,1,1,1", "--json")

        assert process.returncode == 2
        assert process.stderr == "item 4: 4 is out of range 0–3\n"
        assert process.stdout == ""

    def test_it_exits_with_status_2_for_a_bad_outcome(self):
        process = self.run_process("outcome", "--phq9", "15", "--contacts", "x", "--json")

        assert process.returncode == 2
        assert process.stderr == "contacts: 'x' is not an integer\n"

    def test_it_names_the_item_of_a_negative_answer(self):
        process = self.run_process("score", "phq9", "-1,0,0,0,0,0,0,0,0", "--json")

        assert process.returncode == 2
        assert process.stderr == "item 1: -1 is out of range 0–3\n"
        assert process.stdout == ""

    def test_it_names_the_measure_of_a_negative_outcome_score(self):
        process = self.run_process(
            "outcome", "--phq9", "-3,2", "--gad7", "5,4", "--contacts", "2", "--json"
        )

        assert process.returncode == 2
        assert process.stderr.startswith("phq9 score 1: -3 is out of range")
        assert process.stdout == ""
