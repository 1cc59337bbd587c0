"""The production profile: refuses to start unsafe, and passes Django's deploy checks."""

import os
import subprocess
import sys


def run_alliance(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "alliance", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "ALLIANCE_ENV": "production",
    "SECRET_KEY": "x" * 64 + "-not-a-real-secret-but-long-and-random-enough-9f8e7d",
    "EMAIL_HOST": "smtp.example.org",
    "ALLOWED_HOSTS": "alliance.example.org",
    "ALLOW_SQLITE_IN_PRODUCTION": "1",
}


class TestProductionProfile:
    def test_it_passes_the_deploy_checks(self, tmp_path):
        result = run_alliance(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            ALLIANCE_DATA_DIR=str(tmp_path),
            **PRODUCTION,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_it_refuses_to_start_without_a_secret_key(self, tmp_path):
        env = {**PRODUCTION, "SECRET_KEY": ""}
        result = run_alliance("check", ALLIANCE_DATA_DIR=str(tmp_path), **env)
        assert result.returncode != 0
        assert "SECRET_KEY must be set" in result.stderr

    def test_it_flags_console_email_in_production(self, tmp_path):
        env = {**PRODUCTION, "EMAIL_HOST": ""}
        result = run_alliance("check", "--deploy", ALLIANCE_DATA_DIR=str(tmp_path), **env)
        assert result.returncode != 0
        assert "alliance.E002" in result.stderr

    def test_it_refuses_demo_data_in_production(self, tmp_path):
        result = run_alliance("demo", ALLIANCE_DATA_DIR=str(tmp_path), **PRODUCTION)
        assert result.returncode != 0
        assert "refused in production" in result.stderr


class TestDevelopmentProfile:
    def test_it_keeps_a_generated_secret_key_in_the_data_folder(self, tmp_path):
        result = run_alliance("check", ALLIANCE_DATA_DIR=str(tmp_path))
        assert result.returncode == 0, result.stderr
        key = (tmp_path / "secret_key").read_text()
        assert len(key) >= 50
        assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
