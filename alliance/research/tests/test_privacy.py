"""A researcher never reaches identifiable data: not through a patient page or API
operation, and not through any research page, API response or export."""

import io
import re
import zipfile

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from alliance.api import api
from alliance.research import services
from alliance.research.tests.conftest import answer_feedback, code_named

NAMED = {
    "programme_helped": "Alice here (alice@patients.example, 07700 900123). Sam Supporter "
    "and my husband Dave were wonderful; born 12/03/1990, NHS 943 476 5919, LS6 2AB.",
    "calls_helped": "Priya covered once when Sam was away and she was kind too.",
}


def patient_paths(resolver=None, prefix=""):
    """Every page path that takes a patient_id, with the placeholders filled in."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from patient_paths(entry, route)
        elif isinstance(entry, URLPattern) and "<int:patient_id>" in route:
            yield route


def filled(route: str, patient_id: int) -> str:
    path = route.replace("<int:patient_id>", str(patient_id))
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<slug:\w+>", "unlock", path)
    path = re.sub(r"<(?:str:)?\w+>", "x", path)
    return "/" + path.lstrip("^").rstrip("$")


@pytest.fixture
def identified(project, alice, sam, tomasz, uma):
    """Alice's answer names everyone and every kind of identifier; both coders code it,
    reconciliation opens and a theme is reported."""
    answer_feedback(alice, sam.user, NAMED)
    services.project_refresh_documents(project=project)
    warmth = code_named(project, "Warmth")
    for document in project.documents.all():
        for coder in (tomasz.user, uma.user):
            services.codings_apply(
                document=document, coder=coder, codes=[warmth], start=0, end=len(document.text)
            )
            services.document_set_done(document=document, coder=coder)
    services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
    services.theme_create(project=project, name="Care", codes=[warmth])
    return project


def identifiers(alice, bob, sam, priya) -> list[str]:
    return [
        alice.user.full_name,
        alice.user.email,
        bob.user.email,
        "bob.s@example.com",
        sam.user.full_name,
        priya.user.full_name,
        "07700 900123",
        "943 476 5919",
        "12/03/1990",
        "LS6 2AB",
        str(alice.pseudonym),
        str(bob.pseudonym),
        r"\bSam\b",
        r"\bPriya\b",
        r"\bDave\b",
        r"\bAlice\b",
        r"\bJenny\b",
    ]


def assert_nothing_identifying(text: str, patterns: list[str], where: str) -> None:
    for pattern in patterns:
        found = re.search(pattern if pattern.startswith(r"\b") else re.escape(pattern), text)
        assert found is None, f"{pattern} appears in {where}"


class TestResearcherAndPatientRecords:
    def test_every_patient_page_is_not_found(self, login, tomasz, alice, project):
        client = login(tomasz)
        paths = [filled(route, alice.pk) for route in patient_paths()]
        assert len(paths) > 10
        for path in paths:
            response = client.get(path)
            if response.status_code == 405:
                response = client.post(path, {})
                assert response.status_code in (403, 404), path
            else:
                assert response.status_code == 404, path
            assert alice.user.full_name not in response.content.decode()

    def test_every_patient_api_operation_is_refused(self, login, tomasz, alice, project):
        client = login(tomasz)
        schema = api.get_openapi_schema()
        checked = 0
        for route, operations in schema["paths"].items():
            if "{patient_id}" not in route:
                continue
            path = re.sub(r"\{\w+\}", "1", route.replace("{patient_id}", str(alice.pk)))
            for method in operations:
                response = getattr(client, method)(path, {}, content_type="application/json")
                expected = (404,) if method == "get" else (403, 404, 422)
                assert response.status_code in expected, (method, path, response.status_code)
                assert alice.user.full_name not in response.content.decode()
                checked += 1
        assert checked > 10

    def test_the_patient_list_shows_nobody(self, login, tomasz, alice):
        response = login(tomasz).get("/api/v1/patients")
        assert alice.user.full_name not in response.content.decode()


class TestResearchShowsNoIdentifiers:
    def test_no_page_shows_a_name_or_identifier(
        self, login, identified, tomasz, alice, bob, sam, priya
    ):
        project = identified
        client = login(tomasz)
        base = f"/research/projects/{project.pk}/"
        document = project.documents.first()
        warmth = code_named(project, "Warmth")
        pages = [
            "/research/",
            base,
            base + "documents/",
            base + "codebook/",
            base + "agreement/",
            base + "reconcile/",
            base + "themes/",
            base + "report/",
            base + "report/?format=csv",
            base + "codebook/export.qdc",
            base + f"reconcile/{document.pk}/{warmth.pk}/",
            *[f"{base}documents/{d.pk}/code/" for d in project.documents.all()],
        ]
        patterns = identifiers(alice, bob, sam, priya)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, page
            assert_nothing_identifying(response.content.decode(), patterns, page)

    def test_no_api_response_shows_a_name_or_identifier(
        self, login, identified, tomasz, alice, bob, sam, priya
    ):
        project = identified
        client = login(tomasz)
        base = f"/api/v1/research/projects/{project.pk}"
        calls = [
            "/api/v1/research/projects",
            base,
            base + "/documents",
            base + "/codebook",
            base + "/agreement",
            base + "/disagreements",
            base + "/consensus",
            base + "/themes",
            base + "/report",
            *[f"{base}/documents/{d.pk}" for d in project.documents.all()],
            *[f"{base}/documents/{d.pk}/codings" for d in project.documents.all()],
        ]
        patterns = identifiers(alice, bob, sam, priya)
        for call in calls:
            response = client.get(call)
            assert response.status_code == 200, call
            assert_nothing_identifying(response.content.decode(), patterns, call)

    def test_the_qdpx_export_shows_no_name_or_identifier(
        self, login, identified, tomasz, alice, bob, sam, priya
    ):
        response = login(tomasz).get(f"/api/v1/research/projects/{identified.pk}/qdpx")
        assert response.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        patterns = identifiers(alice, bob, sam, priya)
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8")
            assert_nothing_identifying(text, patterns, name)

    def test_the_tags_show_what_was_taken_out(self, identified):
        joined = " ".join(d.text for d in identified.documents.all())
        for tag in ("[NAME]", "[EMAIL]", "[PHONE]", "[DATE]", "[NHS NUMBER]", "[POSTCODE]"):
            assert tag in joined
