"""Themes and the report: counts from the consensus, quotes, the printable page and CSV."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.research import services
from alliance.research.models import Theme
from alliance.research.tests.conftest import answer_feedback, code_named, consent, document_with
from alliance.research.views import csv_safe


def decide(project, tomasz, document, code, *, quote):
    services.consensus_decide(
        document=document, code=code, actor=tomasz.user, applied=True, quote=quote, reason="ok"
    )


@pytest.fixture
def reconciled(project, tomasz):
    """Consensus: Warmth in two of Alice's answers and one of Bob's; Normalising in one of
    Alice's. A theme "The supporter as a person" holds Warmth and Empathy."""
    services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
    warmth, normal = code_named(project, "Warmth"), code_named(project, "Normalising")
    decide(project, tomasz, document_with(project, "thought records"), warmth, quote="brilliant")
    decide(project, tomasz, document_with(project, "every week"), warmth, quote="kept me going")
    decide(project, tomasz, document_with(project, "every week"), normal, quote="less alone")
    decide(project, tomasz, document_with(project, "Planning nice"), warmth, quote="nice things")
    theme = services.theme_create(
        project=project,
        name="The supporter as a person",
        description="How the supporter came across.",
        codes=[warmth, code_named(project, "Empathy")],
    )
    return {"theme": theme, "warmth": warmth, "normal": normal}


def report_url(project):
    return f"/research/projects/{project.pk}/report/"


class TestThemes:
    def test_the_lead_adds_edits_and_deletes_a_theme(self, login, project, tomasz):
        client = login(tomasz)
        warmth = code_named(project, "Warmth")
        added = client.post(
            f"/research/projects/{project.pk}/themes/",
            {"name": "Feeling cared for", "codes": [warmth.pk]},
        )
        assert added.status_code == 302
        theme = Theme.objects.get()
        assert list(theme.codes.all()) == [warmth]
        client.post(
            f"/research/projects/{project.pk}/themes/{theme.pk}/",
            {"name": "Feeling cared for", "description": "Warmth", "codes": []},
        )
        theme.refresh_from_db()
        assert theme.description == "Warmth" and not theme.codes.exists()
        client.post(f"/research/projects/{project.pk}/themes/{theme.pk}/delete/")
        assert not Theme.objects.exists()

    def test_a_theme_needs_a_unique_name(self, project):
        services.theme_create(project=project, name="One")
        for name in ("", "one"):
            with pytest.raises(ValidationError) as error:
                services.theme_create(project=project, name=name)
            assert "name" in error.value.message_dict
        assert Theme.objects.count() == 1

    def test_a_theme_takes_only_this_projects_codes(self, project, tomasz):
        other = services.project_create(
            lead=tomasz, title="Other", instruments=["feedback"], starter="change-processes"
        )
        with pytest.raises(ValidationError) as error:
            services.theme_create(
                project=project, name="Mixed", codes=[code_named(other, "Self-care")]
            )
        assert "codes" in error.value.message_dict
        assert not Theme.objects.exists()

    def test_the_api_manages_themes(self, login, project, tomasz):
        client = login(tomasz)
        base = f"/api/v1/research/projects/{project.pk}/themes"
        warmth = code_named(project, "Warmth")
        created = client.post(
            base, {"name": "Care", "codes": [warmth.pk]}, content_type="application/json"
        )
        assert created.status_code == 201 and created.json()["codes"] == [warmth.pk]
        theme_id = created.json()["id"]
        updated = client.put(
            f"{base}/{theme_id}", {"name": "Care", "codes": []}, content_type="application/json"
        )
        assert updated.json()["codes"] == []
        assert [t["name"] for t in client.get(base).json()] == ["Care"]
        assert client.delete(f"{base}/{theme_id}").status_code == 204

    def test_a_bad_theme_is_refused_naming_the_field(self, login, project, tomasz):
        response = login(tomasz).post(
            f"/api/v1/research/projects/{project.pk}/themes",
            {"name": "X", "codes": [987654]},
            content_type="application/json",
        )
        assert response.status_code == 422 and "codes" in response.json()["error"]["fields"]
        assert not Theme.objects.exists()

    def test_coders_read_but_do_not_change_themes(self, login, project, uma):
        client = login(uma)
        assert client.get(f"/research/projects/{project.pk}/themes/").status_code == 200
        response = client.post(f"/research/projects/{project.pk}/themes/", {"name": "Mine"})
        assert response.status_code == 403 and not Theme.objects.exists()

    def test_outsiders_get_not_found(self, login, project, vic):
        client = login(vic)
        assert client.get(f"/research/projects/{project.pk}/themes/").status_code == 404
        assert client.get(f"/api/v1/research/projects/{project.pk}/themes").status_code == 404


class TestReport:
    def test_it_counts_responses_and_participants_from_the_consensus(
        self, login, project, uma, reconciled
    ):
        body = login(uma).get(f"/api/v1/research/projects/{project.pk}/report").json()
        assert (body["participants"], body["responses"]) == (2, 4)
        theme, others = body["sections"]
        assert theme["theme"] == "The supporter as a person"
        assert theme["total"]["responses"] == 3 and theme["total"]["participants"] == 2
        warmth = theme["rows"][0]
        assert (warmth["code"], warmth["responses"], warmth["participants"]) == ("Warmth", 3, 2)
        assert warmth["share"] == 1.0
        assert theme["rows"][1]["code"] == "Empathy" and theme["rows"][1]["responses"] == 0
        assert others["theme"] is None
        normal = next(r for r in others["rows"] if r["code"] == "Normalising")
        assert (normal["responses"], normal["participants"], normal["share"]) == (1, 1, 0.5)
        assert normal["quotes"] == ["less alone"]

    def test_quotes_are_exact_passages_longest_first(self, login, project, uma, reconciled):
        body = login(uma).get(f"/api/v1/research/projects/{project.pk}/report").json()
        assert body["sections"][0]["rows"][0]["quotes"] == [
            "kept me going",
            "nice things",
            "brilliant",
        ]

    def test_the_page_shows_the_same_numbers_as_the_csv(self, login, project, uma, reconciled):
        client = login(uma)
        page = client.get(report_url(project)).content.decode()
        download = client.get(report_url(project) + "?format=csv")
        assert download["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.content.decode())))
        assert rows[0][:5] == [
            "theme",
            "code",
            "responses",
            "participants",
            "share_of_participants_percent",
        ]
        page_rows = re.findall(
            r'<th scope="row">([^<]+)</th>\s*<td class="number">(\d+)</td>\s*'
            r'<td class="number">(\d+)</td>\s*<td class="number">([\d.]+)%</td>',
            page,
        )
        csv_rows = [(row[1] or "The whole theme", row[2], row[3], row[4]) for row in rows[1:]]
        assert page_rows == csv_rows
        assert ("Warmth", "3", "2", "100.0") in csv_rows
        assert ("Normalising", "1", "1", "50.0") in csv_rows

    def test_the_page_prints_without_menus(self, login, project, uma, reconciled):
        page = login(uma).get(report_url(project)).content.decode()
        assert "research/research.css" in page and "Download as CSV" in page
        assert "“kept me going”" in page
        css = (Path(services.__file__).parent / "static/research/research.css").read_text()
        assert "@media print" in css and ".project-nav" in css.split("@media print")[1]

    def test_a_spreadsheet_formula_in_a_cell_is_neutralised(self):
        assert csv_safe("=HYPERLINK(x)") == "'=HYPERLINK(x)"
        assert csv_safe("fine") == "fine"

    def test_its_query_count_is_fixed_whatever_the_size(
        self, login, project, tomasz, uma, bob, priya, django_assert_num_queries
    ):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        warmth = code_named(project, "Warmth")
        services.theme_create(project=project, name="T", codes=[warmth])
        client = login(uma)
        decide(
            project, tomasz, document_with(project, "thought records"), warmth, quote="brilliant"
        )
        client.get(report_url(project))
        with CaptureQueriesContext(connection) as small:
            client.get(report_url(project))
        services.project_set_status(project=project, status="open", actor=tomasz.user)
        consent(bob)
        for n in range(6):
            answer_feedback(bob, priya.user, {"calls_improve": f"Answer number {n} was warm"})
        services.project_refresh_documents(project=project)
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        for document in project.documents.filter(question="calls_improve"):
            services.consensus_decide(
                document=document,
                code=warmth,
                actor=tomasz.user,
                applied=True,
                start=0,
                end=len(document.text),
                reason="ok",
            )
        services.theme_create(project=project, name="U", codes=[warmth])
        with django_assert_num_queries(len(small.captured_queries)):
            response = client.get(report_url(project))
        assert response.content.decode().count("<blockquote") >= 6

    def test_outsiders_get_not_found(self, login, project, vic, wes, reconciled):
        for outsider in (vic, wes):
            client = login(outsider)
            assert client.get(report_url(project)).status_code == 404
            assert client.get(report_url(project) + "?format=csv").status_code == 404
            assert client.get(f"/api/v1/research/projects/{project.pk}/report").status_code == 404
