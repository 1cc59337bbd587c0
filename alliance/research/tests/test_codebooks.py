"""Codebooks: starter codebooks, codes, and REFI-QDA codebook exchange (.qdc)."""

import io
from pathlib import Path

import pytest
import xmlschema
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from alliance.research import codebooks, qdc, services
from alliance.research.exchange_types import CodeRef
from alliance.research.models import Code
from alliance.research.tests.conftest import code_named

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "refi-qda"
SCHEMA = Path(qdc.__file__).resolve().parent / "schemas" / "Codebook-mrt2019.xsd"
GUID = "3E96D43D-37CC-4D8F-A15D-929EC8130768"


def valid_codebook(data: bytes) -> bool:
    return xmlschema.XMLSchema(str(SCHEMA)).is_valid(io.BytesIO(data))


class TestStarterCodebooks:
    def test_there_are_the_five_frameworks_of_the_seeds(self):
        assert set(codebooks.starter_codebooks()) == {
            "supporter-qualities",
            "change-processes",
            "blended-value-burden",
            "barriers-facilitators",
            "engagement-determinants",
        }

    @pytest.mark.parametrize("key", sorted(codebooks.starter_codebooks()))
    def test_every_codable_code_has_all_four_texts(self, key):
        for code, _parent in codebooks.starter_codebooks()[key].walk():
            if code.codable:
                assert code.definition and code.when_to_use, code.name
                assert code.when_not_to_use and code.example, code.name

    @pytest.mark.parametrize(
        ("key", "names"),
        [
            ("supporter-qualities", {"Warmth", "Empathy", "Genuineness", "Normalising"}),
            (
                "change-processes",
                {"Self-reflection", "Self-care", "Challenging negative thinking"},
            ),
            ("blended-value-burden", {"Added value", "Added burden", "Overwhelming"}),
            ("barriers-facilitators", {"Facilitators", "Barriers", "Usability problems"}),
            ("engagement-determinants", {"Intrapersonal", "Interpersonal", "External"}),
        ],
    )
    def test_they_hold_the_frameworks_codes(self, key, names):
        found = {code.name for code, _ in codebooks.starter_codebooks()[key].walk()}
        assert names <= found

    def test_a_starter_exports_as_a_valid_codebook(self, project):
        data = services.codebook_export_qdc(codebook=project.codebook)
        assert valid_codebook(data)


class TestCodeService:
    def test_it_refuses_a_duplicate_name_among_siblings(self, project):
        with pytest.raises(ValidationError) as error:
            services.code_create(
                codebook=project.codebook,
                name="warmth",
                parent=code_named(project, "Qualities of the supporter"),
            )
        assert "name" in error.value.message_dict

    def test_it_refuses_a_bad_colour(self, project):
        with pytest.raises(ValidationError) as error:
            services.code_create(codebook=project.codebook, name="New", colour="red")
        assert "colour" in error.value.message_dict
        assert not Code.objects.filter(name="New").exists()

    def test_it_refuses_a_parent_from_another_codebook(self, project, tomasz):
        other = services.project_create(lead=tomasz, title="Other", instruments=["feedback"])
        with pytest.raises(ValidationError) as error:
            services.code_create(
                codebook=other.codebook, name="X", parent=code_named(project, "Warmth")
            )
        assert "parent" in error.value.message_dict

    def test_it_refuses_to_put_a_code_inside_itself(self, project):
        group = code_named(project, "Qualities of the supporter")
        with pytest.raises(ValidationError) as error:
            services.code_update(code=group, parent=code_named(project, "Warmth"))
        assert "parent" in error.value.message_dict

    def test_it_refuses_to_delete_a_code_in_use(self, project, tomasz):
        warmth = code_named(project, "Warmth")
        document = project.documents.first()
        services.codings_apply(document=document, coder=tomasz.user, codes=[warmth], start=0, end=3)
        with pytest.raises(ValidationError) as error:
            services.code_delete(code=warmth)
        assert "applied 1 times" in error.value.messages[0]
        assert Code.objects.filter(pk=warmth.pk).exists()


class TestQdcExchange:
    def test_the_export_validates_and_nests_codes(self, project):
        data = services.codebook_export_qdc(codebook=project.codebook)
        assert valid_codebook(data)
        text = data.decode()
        assert 'xmlns="urn:QDA-XML:codebook:1.0"' in text
        assert text.index('name="Qualities of the supporter"') < text.index('name="Warmth"')
        assert "When not to use:" in text

    def test_it_round_trips_every_field(self, project, tomasz):
        data = services.codebook_export_qdc(codebook=project.codebook)
        other = services.project_create(lead=tomasz, title="Copy", instruments=["feedback"])
        added, updated = services.codebook_import_qdc(codebook=other.codebook, data=data)
        assert (added, updated) == (6, 0)
        fields = ("name", "definition", "when_to_use", "when_not_to_use", "example", "colour")
        original = {str(c.guid): c for c in project.codebook.codes.all()}
        for code in other.codebook.codes.select_related("parent"):
            source = original[str(code.guid)]
            assert [getattr(code, f) for f in fields] == [getattr(source, f) for f in fields]
            assert code.is_codable == source.is_codable
            assert (code.parent.guid if code.parent else None) == (
                source.parent.guid if source.parent else None
            )

    def test_importing_again_updates_rather_than_duplicates(self, project):
        data = services.codebook_export_qdc(codebook=project.codebook)
        assert services.codebook_import_qdc(codebook=project.codebook, data=data) == (0, 6)
        assert project.codebook.codes.count() == 6

    def test_it_reads_the_reference_example(self, project):
        data = (REFERENCE / "examples" / "codebook.qdc").read_bytes()
        services.codebook_import_qdc(codebook=project.codebook, data=data)
        coach = project.codebook.codes.get(name="Coach")
        assert coach.parent.name == "Helpful" and not coach.parent.is_codable
        assert coach.parent.definition == "What helped"

    def test_it_turns_flat_names_into_a_hierarchy(self):
        data = (
            '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
            f'<Code guid="{GUID}" name="Drinks::Coke::Diet" isCodable="true" color="#F00"/>'
            "</Codes></CodeBook>"
        ).encode()
        codes = qdc.import_codebook(data)
        assert [c.name for c in codes] == ["Drinks", "Coke", "Diet"]
        assert codes[2].parent_guid == codes[1].guid and codes[2].color == "#FF0000"
        assert not codes[0].is_codable

    def test_the_description_carries_the_four_texts(self):
        texts = {
            "definition": "D",
            "when_to_use": "W",
            "when_not_to_use": "N",
            "example": '"E"',
        }
        assert codebooks.texts_from_description(codebooks.description_of(**texts)) == texts
        assert codebooks.texts_from_description("Just words") == {
            "definition": "Just words",
            "when_to_use": "",
            "when_not_to_use": "",
            "example": "",
        }

    def test_it_exports_a_plain_code_list(self):
        data = qdc.export_codebook([CodeRef(guid=GUID.lower(), name="A & <B>")])
        assert valid_codebook(data) and GUID in data.decode()

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"", "empty"),
            (b"not xml at all", "not XML"),
            (b"<Project xmlns='urn:QDA-XML:project:1.0' name='x'/>", "root is <Project>"),
            (
                b"<CodeBook xmlns='urn:QDA-XML:codebook:1:0'><Codes/></CodeBook>",
                "namespace",
            ),
            (
                b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes/></CodeBook>",
                "schema",
            ),
            (
                b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes>"
                b"<Code guid='not-a-guid' name='x' isCodable='true'/></Codes></CodeBook>",
                "schema",
            ),
            (
                b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
                b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes><Code guid='"
                + GUID.encode()
                + b"' name='&b;' isCodable='true'/></Codes></CodeBook>",
                "entities",
            ),
            (
                b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes><Code guid='"
                + GUID.encode()
                + b"' name='&e;' isCodable='true'/></Codes></CodeBook>",
                "entities",
            ),
        ],
    )
    def test_it_refuses_bad_files_and_imports_nothing(self, project, data, message):
        before = project.codebook.codes.count()
        with pytest.raises(ValidationError) as error:
            services.codebook_import_qdc(codebook=project.codebook, data=data)
        assert message in error.value.message_dict["file"][0]
        assert project.codebook.codes.count() == before

    def test_it_refuses_codes_nested_too_deep(self):
        nested = "".join(
            f'<Code guid="{GUID[:-2]}{i:02d}" name="c{i}" isCodable="true">' for i in range(20)
        )
        data = (
            '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
            + nested
            + "</Code>" * 20
            + "</Codes></CodeBook>"
        ).encode()
        with pytest.raises(qdc.QdcError, match="nested"):
            qdc.import_codebook(data)

    def test_a_partly_bad_codebook_imports_nothing(self, project):
        data = (
            '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
            f'<Code guid="{GUID}" name="Fine" isCodable="true"/>'
            '<Code guid="3E96D43D-37CC-4D8F-A15D-929EC8130769" name="Fine" isCodable="true"/>'
            "</Codes></CodeBook>"
        ).encode()
        before = project.codebook.codes.count()
        with pytest.raises(ValidationError) as error:
            services.codebook_import_qdc(codebook=project.codebook, data=data)
        assert "Fine" in error.value.message_dict["file"][0]
        assert project.codebook.codes.count() == before


class TestCodebookPages:
    def test_it_shows_the_codes_with_their_texts(self, login, project, uma):
        page = login(uma).get(f"/research/projects/{project.pk}/codebook/").content.decode()
        assert "Warmth" in page and "When not to use" in page
        assert "Add a code" not in page  # only the lead edits the codebook

    def test_the_lead_adds_edits_and_deletes_a_code(self, login, project, tomasz):
        client = login(tomasz)
        base = f"/research/projects/{project.pk}/codebook/"
        added = client.post(
            base, {"name": "Humour", "colour": "#123456", "is_codable": "on", "definition": "Fun"}
        )
        assert added.status_code == 302
        code = project.codebook.codes.get(name="Humour")
        edited = client.post(
            f"{base}codes/{code.pk}/",
            {"name": "Humour and lightness", "colour": "#123456", "is_codable": "on"},
        )
        assert edited.status_code == 302
        code.refresh_from_db()
        assert code.name == "Humour and lightness"
        assert client.post(f"{base}codes/{code.pk}/delete/").status_code == 302
        assert not Code.objects.filter(pk=code.pk).exists()

    def test_a_bad_code_is_refused_naming_the_field(self, login, project, tomasz):
        response = login(tomasz).post(
            f"/research/projects/{project.pk}/codebook/", {"name": "", "colour": "#123456"}
        )
        assert response.status_code == 400
        assert 'href="#id_name"' in response.content.decode()
        assert project.codebook.codes.count() == 6

    def test_a_coder_cannot_change_the_codebook(self, login, project, uma):
        response = login(uma).post(
            f"/research/projects/{project.pk}/codebook/", {"name": "Mine", "colour": "#123456"}
        )
        assert response.status_code == 403
        assert not Code.objects.filter(name="Mine").exists()

    def test_the_lead_adds_a_starter_codebook(self, login, project, tomasz):
        response = login(tomasz).post(
            f"/research/projects/{project.pk}/codebook/starter/", {"starter": "change-processes"}
        )
        assert response.status_code == 302
        assert project.codebook.codes.filter(name="Self-care").exists()

    def test_it_exports_and_imports_a_qdc_file(self, login, project, tomasz):
        client = login(tomasz)
        exported = client.get(f"/research/projects/{project.pk}/codebook/export.qdc")
        assert exported.status_code == 200
        assert exported["Content-Disposition"] == 'attachment; filename="feedback-study.qdc"'
        other = services.project_create(lead=tomasz, title="Copy", instruments=["feedback"])
        upload = SimpleUploadedFile("book.qdc", exported.content, "application/xml")
        imported = client.post(
            f"/research/projects/{other.pk}/codebook/import/", {"file": upload}, follow=True
        )
        assert "6 codes added" in imported.content.decode()

    def test_a_bad_qdc_file_is_refused_on_the_page(self, login, project, tomasz):
        upload = SimpleUploadedFile("book.qdc", b"<nonsense", "application/xml")
        response = login(tomasz).post(
            f"/research/projects/{project.pk}/codebook/import/", {"file": upload}
        )
        page = response.content.decode()
        assert response.status_code == 400 and "not XML" in page and 'href="#id_file"' in page
        assert project.codebook.codes.count() == 6


class TestCodebookApi:
    def test_it_lists_creates_updates_and_deletes_codes(self, login, project, tomasz):
        client = login(tomasz)
        base = f"/api/v1/research/projects/{project.pk}/codebook"
        codes = client.get(base).json()
        assert codes[0]["name"] == "Qualities of the supporter" and codes[1]["parent"]
        created = client.post(
            f"{base}/codes",
            {"name": "Humour", "parent": codes[0]["id"], "definition": "Jokes"},
            content_type="application/json",
        )
        assert created.status_code == 201
        code_id = created.json()["id"]
        patched = client.patch(
            f"{base}/codes/{code_id}", {"colour": "#00AA00"}, content_type="application/json"
        )
        assert patched.json()["colour"] == "#00AA00" and patched.json()["name"] == "Humour"
        assert client.delete(f"{base}/codes/{code_id}").status_code == 204

    def test_it_refuses_a_parent_from_another_codebook(self, login, project, tomasz):
        other = services.project_create(lead=tomasz, title="Other", instruments=["feedback"])
        foreign = other.codebook.codes.create(name="Elsewhere")
        response = login(tomasz).post(
            f"/api/v1/research/projects/{project.pk}/codebook/codes",
            {"name": "X", "parent": foreign.pk},
            content_type="application/json",
        )
        assert response.status_code == 422 and "parent" in response.json()["error"]["fields"]
        assert not project.codebook.codes.filter(name="X").exists()

    def test_it_exports_and_imports_qdc(self, login, project, tomasz):
        client = login(tomasz)
        exported = client.get(f"/api/v1/research/projects/{project.pk}/codebook/qdc")
        assert exported.status_code == 200 and valid_codebook(exported.content)
        upload = SimpleUploadedFile("book.qdc", exported.content, "application/xml")
        imported = client.post(
            f"/api/v1/research/projects/{project.pk}/codebook/qdc", {"file": upload}
        )
        assert imported.json()["codes_updated"] == 6

    def test_a_bad_file_is_refused_naming_the_field(self, login, project, tomasz):
        upload = SimpleUploadedFile("book.qdc", b"<CodeBook/>", "application/xml")
        response = login(tomasz).post(
            f"/api/v1/research/projects/{project.pk}/codebook/qdc", {"file": upload}
        )
        assert response.status_code == 422
        assert "file" in response.json()["error"]["fields"]

    def test_coders_read_but_do_not_write(self, login, project, uma):
        client = login(uma)
        assert client.get(f"/api/v1/research/projects/{project.pk}/codebook").status_code == 200
        response = client.post(
            f"/api/v1/research/projects/{project.pk}/codebook/codes",
            {"name": "Mine"},
            content_type="application/json",
        )
        assert response.status_code == 403

    def test_outsiders_get_not_found(self, login, project, vic, wes):
        for outsider in (vic, wes):
            client = login(outsider)
            assert client.get(f"/api/v1/research/projects/{project.pk}/codebook").status_code == 404
            exported = client.get(f"/api/v1/research/projects/{project.pk}/codebook/qdc")
            assert exported.status_code == 404
