"""The research_consent command."""

import pytest
from django.core.management import CommandError, call_command

from alliance.research import selectors


class TestResearchConsentCommand:
    def test_it_shows_the_text_in_force(self, db, capsys):
        call_command("research_consent")
        assert "v1: Taking part in research" in capsys.readouterr().out

    def test_it_publishes_a_new_version_from_a_file(self, db, tmp_path, capsys):
        text = tmp_path / "consent.txt"
        text.write_text("New research text.", encoding="utf-8")
        call_command("research_consent", str(text), "--title", "Research, v2")
        assert "Published version 2." in capsys.readouterr().out
        current = selectors.consent_document_current()
        assert (current.version, current.title, current.text) == (
            2,
            "Research, v2",
            "New research text.",
        )

    def test_it_refuses_an_empty_file_and_publishes_nothing(self, db, tmp_path):
        empty = tmp_path / "empty.txt"
        empty.write_text("  ", encoding="utf-8")
        with pytest.raises(CommandError, match="Write the consent text"):
            call_command("research_consent", str(empty))
        assert selectors.consent_document_current().version == 1

    def test_it_refuses_a_missing_file(self, db):
        with pytest.raises(CommandError, match="no such file"):
            call_command("research_consent", "/no/such/file.txt")
