"""The content authors' read-only preview: the programme list and a programme's page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.conftest import has_inline_script
from alliance.content.services import content_load
from alliance.content.tests.programme_files import write_programme

LIST_URL = reverse("content:programme_list")


def detail_url(programme) -> str:
    return reverse("content:programme_detail", args=[programme.pk])


class TestProgrammeListPage:
    def test_it_lists_the_newest_versions_and_links_older_ones(self, login, hana, loaded):
        old, new = loaded
        page = login(hana).get(LIST_URL).content.decode()
        assert f'<a href="{detail_url(new)}">Test programme, new</a>' in page
        assert f'<a href="{detail_url(old)}">version 1</a>' in page
        assert f'<a href="{detail_url(old)}">Test programme</a>' not in page
        assert "<td>Blended</td>" in page

    def test_it_is_open_to_administrators(self, login, ada, loaded):
        assert login(ada).get(LIST_URL).status_code == 200

    def test_it_says_when_nothing_is_loaded(self, login, hana):
        page = login(hana).get(LIST_URL).content.decode()
        assert "No programmes are loaded yet." in page

    @pytest.mark.parametrize("persona", ["sam", "morgan", "ruth", "tomasz", "oscar", "alice"])
    def test_it_is_refused_to_everyone_else(self, request, login, persona):
        response = login(request.getfixturevalue(persona)).get(LIST_URL)
        assert response.status_code == 403

    def test_it_sends_a_visitor_to_sign_in(self, client, db):
        response = client.get(LIST_URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign_in"))

    def test_it_runs_the_same_queries_whatever_the_number_of_programmes(
        self, login, hana, loaded, programs
    ):
        client = login(hana)
        with CaptureQueriesContext(connection) as few:
            client.get(LIST_URL)
        for key in ("more-a", "more-b", "more-c"):
            write_programme(programs, key, ("programme.yaml", "key: test-programme", f"key: {key}"))
        content_load(directory=programs)
        with CaptureQueriesContext(connection) as many:
            response = client.get(LIST_URL)
        assert response.content.decode().count("<tr>") == 5  # header and four programmes
        assert len(many) == len(few)


class TestProgrammeDetailPage:
    def test_it_shows_each_module_with_its_rules(self, login, hana, loaded):
        old, _ = loaded
        page = login(hana).get(detail_url(old)).content.decode()
        assert "<h1>Test programme</h1>" in page
        assert "Module 1: First module" in page
        assert "Module 2: Second module" in page
        assert "After the previous module" in page
        assert "7 days after the start" in page
        assert "About 20 minutes" in page
        assert "No: the supporter may skip it" in page
        assert "Prepares for session 1" in page

    def test_it_shows_the_protocol_guide(self, login, hana, loaded):
        page = login(hana).get(detail_url(loaded[0])).content.decode()
        assert "<dd>Reads about the cycle.</dd>" in page
        assert "<dd>The journal entry.</dd>" in page
        assert "<li>How did it go?</li>" in page
        assert "<li>Keep a diary.</li>" in page

    def test_it_shows_the_pages_as_loaded(self, login, hana, loaded):
        page = login(hana).get(detail_url(loaded[0])).content.decode()
        assert "Page 1: Welcome" in page
        assert "<p>Hello <strong>there</strong>.</p>" in page
        assert (
            '<a href="https://example.org" title="Example" rel="noopener noreferrer">link</a>'
        ) in page

    def test_it_shows_an_exercise_slot_as_a_labelled_box(self, login, hana, loaded):
        page = login(hana).get(detail_url(loaded[0])).content.decode()
        assert '<aside class="card" aria-label="Exercise: Thought record">' in page
        assert 'data-exercise="thought_record"' not in page

    def test_it_shows_homework_suggestions(self, login, hana, loaded):
        page = login(hana).get(detail_url(loaded[0])).content.decode()
        assert re.search(r"Homework suggestion:</strong>\s*Write down three things you did\.", page)

    def test_it_links_the_other_versions(self, login, hana, loaded):
        old, new = loaded
        page = login(hana).get(detail_url(old)).content.decode()
        assert f'<a href="{detail_url(new)}">version 2</a>' in page

    def test_it_has_no_inline_script_or_style(self, login, hana, loaded):
        page = login(hana).get(detail_url(loaded[0])).content.decode()
        assert not has_inline_script(page)
        assert "style=" not in page
        assert "<style" not in page

    def test_it_answers_not_found_for_a_missing_programme(self, login, hana, db):
        response = login(hana).get(reverse("content:programme_detail", args=[999999]))
        assert response.status_code == 404

    @pytest.mark.parametrize("persona", ["sam", "tomasz", "oscar", "alice"])
    def test_it_is_refused_to_everyone_else(self, request, login, persona, loaded):
        response = login(request.getfixturevalue(persona)).get(detail_url(loaded[0]))
        assert response.status_code == 403

    def test_it_reads_the_content_in_four_queries(self, login, hana, loaded):
        client = login(hana)
        with CaptureQueriesContext(connection) as queries:
            client.get(detail_url(loaded[0]))
        content = [q for q in queries.captured_queries if '"content_' in q["sql"]]
        assert len(content) == 4  # programme, modules, pages, versions
