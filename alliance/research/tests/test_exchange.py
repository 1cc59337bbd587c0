"""A project through REFI-QDA (.qdpx) on the pages and the API: export, validate against
the schema, re-import, and refuse bad files. (The XML side is tested in test_qdpx.py.)"""

import io
import zipfile
from pathlib import Path

import pytest
import xmlschema
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from alliance.research import qdpx, services
from alliance.research.exchange_types import CodeRef
from alliance.research.models import Code, Coding
from alliance.research.tests.conftest import code_named, document_with

SCHEMA = Path(services.__file__).resolve().parent / "schemas" / "Project-mrt2019.xsd"


@pytest.fixture
def coded(project, tomasz, uma):
    helped = document_with(project, "thought records")
    warmth, empathy = code_named(project, "Warmth"), code_named(project, "Empathy")
    services.codings_apply(
        document=helped, coder=tomasz.user, codes=[warmth, empathy], quote="was brilliant"
    )
    services.codings_apply(document=helped, coder=uma.user, codes=[warmth], start=0, end=26)
    return project


def project_xml(data: bytes) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive.read("project.qde")


class TestSnapshot:
    def test_it_carries_coders_codes_sources_and_selections(self, coded, tomasz, uma):
        snapshot = services.project_snapshot(project=coded)
        assert [u.name for u in snapshot.users] == ["Tomasz Researcher", "Uma Coder", "Consensus"]
        assert len(snapshot.codes) == 6 and len(snapshot.sources) == 4
        by_coder = {s.coder_guid: s for s in snapshot.selections}
        lead = next(u.guid for u in snapshot.users if u.name == "Tomasz Researcher")
        assert len(by_coder[lead].code_guids) == 2  # one passage, two codes
        source = next(s for s in snapshot.sources if s.guid == by_coder[lead].source_guid)
        assert source.text[by_coder[lead].start : by_coder[lead].end] == "was brilliant"
        assert all(s.name.startswith("P-") for s in snapshot.sources)


class TestExport:
    def test_the_lead_exports_a_valid_qdpx(self, login, coded, tomasz):
        response = login(tomasz).get(f"/research/projects/{coded.pk}/export.qdpx")
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="feedback-study.qdpx"'
        xml = project_xml(response.content)
        assert xmlschema.XMLSchema(str(SCHEMA)).is_valid(io.BytesIO(xml))
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert sum(name.startswith("sources/") for name in names) == 4

    def test_a_coder_cannot_export_during_blind_coding(self, login, coded, uma, tomasz):
        client = login(uma)
        assert client.get(f"/api/v1/research/projects/{coded.pk}/qdpx").status_code == 403
        services.project_set_status(project=coded, status="reconciliation", actor=tomasz.user)
        assert client.get(f"/api/v1/research/projects/{coded.pk}/qdpx").status_code == 200

    def test_outsiders_get_not_found(self, login, coded, vic, wes):
        for outsider in (vic, wes):
            client = login(outsider)
            assert client.get(f"/research/projects/{coded.pk}/export.qdpx").status_code == 404
            assert client.get(f"/api/v1/research/projects/{coded.pk}/qdpx").status_code == 404


class TestRoundTrip:
    def test_a_project_round_trips_through_qdpx(self, coded, tomasz):
        before = sorted(
            Coding.objects.values_list("document_id", "code_id", "coder_id", "start", "end")
        )
        data = services.project_export_qdpx(project=coded)
        Coding.objects.all().delete()

        summary = services.project_import_qdpx(project=coded, data=data, actor=tomasz.user)

        after = sorted(
            Coding.objects.values_list("document_id", "code_id", "coder_id", "start", "end")
        )
        assert after == before
        assert summary["codings_added"] == 3 and summary["codes_added"] == 0

    def test_importing_the_same_file_twice_adds_nothing(self, coded, tomasz):
        data = services.project_export_qdpx(project=coded)
        services.project_import_qdpx(project=coded, data=data, actor=tomasz.user)
        summary = services.project_import_qdpx(project=coded, data=data, actor=tomasz.user)
        assert summary["codings_added"] == 0 and Coding.objects.count() == 3

    def test_consensus_is_exported_but_not_imported(self, coded, tomasz, uma):
        for document in coded.documents.all():
            for coder in (tomasz.user, uma.user):
                services.document_set_done(document=document, coder=coder)
        services.project_set_status(project=coded, status="reconciliation", actor=tomasz.user)
        data = services.project_export_qdpx(project=coded)
        assert b'name="Consensus"' in project_xml(data)
        services.project_set_status(project=coded, status="open", actor=tomasz.user)
        summary = services.project_import_qdpx(project=coded, data=data, actor=tomasz.user)
        assert any("consensus" in warning for warning in summary["warnings"])

    def test_codes_added_elsewhere_join_the_codebook(self, coded, tomasz):
        snapshot = services.project_snapshot(project=coded)
        snapshot.codes.append(
            CodeRef(guid="0F0F0F0F-1111-2222-3333-444455556666", name="Humour", color="#123456")
        )
        services.project_import_qdpx(
            project=coded, data=qdpx.export_project(snapshot), actor=tomasz.user
        )
        assert Code.objects.get(codebook__project=coded, name="Humour").colour == "#123456"

    def test_it_refuses_a_closed_or_reconciling_project(self, coded, tomasz):
        data = services.project_export_qdpx(project=coded)
        services.project_set_status(project=coded, status="reconciliation", actor=tomasz.user)
        with pytest.raises(ValidationError) as error:
            services.project_import_qdpx(project=coded, data=data, actor=tomasz.user)
        assert "file" in error.value.message_dict


class TestImportPagesAndApi:
    def test_the_lead_imports_on_the_overview_page(self, login, coded, tomasz):
        data = services.project_export_qdpx(project=coded)
        Coding.objects.all().delete()
        upload = SimpleUploadedFile("p.qdpx", data, "application/zip")
        response = login(tomasz).post(
            f"/research/projects/{coded.pk}/import/", {"file": upload}, follow=True
        )
        assert "3 codings added" in response.content.decode()
        assert Coding.objects.count() == 3

    @pytest.mark.parametrize(
        "data",
        [
            b"this is not a zip",
            b"PK\x03\x04 broken",
        ],
    )
    def test_a_bad_file_is_refused_and_nothing_imported(self, login, coded, tomasz, data):
        before = Coding.objects.count()
        upload = SimpleUploadedFile("p.qdpx", data, "application/zip")
        response = login(tomasz).post(
            f"/api/v1/research/projects/{coded.pk}/qdpx", {"file": upload}
        )
        assert response.status_code == 422 and "file" in response.json()["error"]["fields"]
        assert Coding.objects.count() == before

    def test_a_path_traversal_is_refused_on_the_page(self, login, coded, tomasz):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("project.qde", "<Project/>")
            archive.writestr("../../etc/evil.txt", "x")
        upload = SimpleUploadedFile("p.qdpx", buffer.getvalue(), "application/zip")
        response = login(tomasz).post(f"/research/projects/{coded.pk}/import/", {"file": upload})
        assert response.status_code == 400
        assert 'href="#id_file"' in response.content.decode()
        assert Coding.objects.count() == 3

    def test_a_coder_cannot_import(self, login, coded, uma):
        data = services.project_export_qdpx(project=coded)
        upload = SimpleUploadedFile("p.qdpx", data, "application/zip")
        response = login(uma).post(f"/api/v1/research/projects/{coded.pk}/qdpx", {"file": upload})
        assert response.status_code == 403

    def test_outsiders_get_not_found(self, login, coded, vic):
        data = services.project_export_qdpx(project=coded)
        upload = SimpleUploadedFile("p.qdpx", data, "application/zip")
        response = login(vic).post(f"/research/projects/{coded.pk}/import/", {"file": upload})
        assert response.status_code == 404
