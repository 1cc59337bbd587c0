"""REFI-QDA exchange: export validates against the schema, import of other tools' files,
round trips, and every kind of bad or hostile .qdpx refused with a clear message."""

import functools
import hashlib
import io
import random
import struct
import uuid
import zipfile
from pathlib import Path

import pytest
import xmlschema
from defusedxml import ElementTree

from alliance.research import qdpx
from alliance.research.exchange_types import (
    CodeRef,
    ProjectSnapshot,
    SelectionRef,
    SourceRef,
    UserRef,
)

DATA = Path(__file__).parent / "data"
NS = "urn:QDA-XML:project:1.0"

ANA = "55830F7B-79E4-49CB-A339-12ECF12692BC"
BEN = "223576B1-3CDF-44D9-BF0C-85239FEFF289"
HELPFUL = "3E96D43D-37CC-4D8F-A15D-929EC8130768"
COACH = "5117B025-C371-4926-809A-974A7ED80826"
CONTENT = "AB290C6C-DCBA-498C-BCEE-409662813604"
SOURCE = "6C318A82-79A2-4277-B1CF-62C6366F4B2B"
FILE = "94B61EA0-899B-40E1-B3CD-33E79CEB6469"
SELECTION = "2CD33DE0-A6FF-4DC4-AF77-88DD5029F4C8"
CODING = "6C6DBD05-EDA6-4FA8-A222-B5E0A866F0EA"
TEXT = "The weekly coach calls kept me going. The thought records were useful too."


def guid(rng: random.Random | None = None) -> str:
    if rng is None:
        return str(uuid.uuid4()).upper()
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


def feedback_snapshot() -> ProjectSnapshot:
    """Two coders, a two-level codebook, two responses, multi-code and unicode passages."""
    second = "Ça m'a aidé 👍🏽 — e\u0301norme.\r\nNo time though."
    return ProjectSnapshot(
        name="iCBT feedback",
        users=[UserRef(ANA, "coder_a"), UserRef(BEN, "coder_b")],
        codes=[
            CodeRef(HELPFUL, "Helpful", "#2E7D32", "What helped", None, False),
            CodeRef(COACH, "Coach", None, "", HELPFUL, True),
            CodeRef(CONTENT, "Content", "#abc", "Modules\nand exercises", HELPFUL, True),
        ],
        sources=[SourceRef(SOURCE, "P001_Q1", TEXT), SourceRef(FILE, "P002_Q1", second)],
        selections=[
            SelectionRef(SELECTION, SOURCE, 0, 37, ANA, (COACH,)),
            SelectionRef(CODING, SOURCE, 0, 37, BEN, (COACH, CONTENT)),
            SelectionRef("0F3C1E55-8D2B-4C55-9E0B-1A2B3C4D5E6F", FILE, 0, 14, ANA, (CONTENT,)),
            SelectionRef("7A6B5C4D-3E2F-4A1B-8C9D-0E1F2A3B4C5D", FILE, 14, 29, None, ()),
        ],
        description="A feedback study.",
    )


def qde_of(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("project.qde")


@functools.cache
def project_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(qdpx.PROJECT_SCHEMA))


def schema_errors(xml: bytes) -> list[str]:
    schema = project_schema()
    return [str(error.reason) for error in schema.iter_errors(xmlschema.XMLResource(xml))]


def make_zip(entries: dict, *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def project(*, sources: str = "", codes: str = "", users: str = "", extra: str = "") -> str:
    users = users or f'<User guid="{ANA}" name="coder_a"/><User guid="{BEN}" name="coder_b"/>'
    codes = codes or (
        f'<Code guid="{HELPFUL}" name="Helpful" isCodable="false">'
        f'<Code guid="{COACH}" name="Coach" isCodable="true"/>'
        f'<Code guid="{CONTENT}" name="Content" isCodable="true"/></Code>'
    )
    sources = sources or text_source(selection())
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="Imported">\n'
        f"<Users>{users}</Users>\n<CodeBook><Codes>{codes}</Codes></CodeBook>\n"
        f"<Sources>{sources}</Sources>{extra}\n</Project>\n"
    )


def text_source(
    inner: str = "", *, path: str = f"internal://{FILE}.txt", source_guid: str = SOURCE
) -> str:
    attr = f' plainTextPath="{path}"' if path else ""
    return f'<TextSource guid="{source_guid}" name="P001_Q1"{attr}>{inner}</TextSource>'


def selection(
    start: int = 0,
    end: int = 37,
    *,
    user: str = ANA,
    code: str = COACH,
    selection_guid: str = SELECTION,
    coding_user: str | None = None,
) -> str:
    coding_attr = f' creatingUser="{coding_user}"' if coding_user else ""
    return (
        f'<PlainTextSelection guid="{selection_guid}" startPosition="{start}" '
        f'endPosition="{end}" creatingUser="{user}">'
        f'<Coding guid="{guid()}"{coding_attr}><CodeRef targetGUID="{code}"/></Coding>'
        f"</PlainTextSelection>"
    )


def qdpx_file(qde: str | None = None, files: dict | None = None) -> bytes:
    entries = {"project.qde": project() if qde is None else qde}
    entries.update({f"sources/{FILE}.txt": TEXT} if files is None else files)
    return make_zip(entries)


def refused(data: bytes, **limits) -> str:
    with pytest.raises(qdpx.QdpxError) as caught:
        qdpx.import_project(data, **limits)
    return caught.value.message


# --- Export ------------------------------------------------------------------------------


class TestExportProject:
    def test_it_writes_a_project_that_validates_against_the_schema(self):
        xml = qde_of(qdpx.export_project(feedback_snapshot()))

        assert schema_errors(xml) == []
        assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")

    def test_it_uses_our_copies_of_the_refi_qda_schemas(self):
        # The checksums in shared/reference/refi-qda/SOURCES.md (REFI-QDA 1.5, March 2019).
        expected = {
            "Project-mrt2019.xsd": "a2cc1ffb4ab1c07c51d6c78e69f2c9968458a9f0"
            "ad3b317ddde27f1e86f15a15",
            "Codebook-mrt2019.xsd": "62a941a02df90991fd9e18bd97c571b88e3c493a"
            "722ef1e45a7247f787849c75",
        }
        for name, digest in expected.items():
            assert hashlib.sha256((qdpx.SCHEMA_DIR / name).read_bytes()).hexdigest() == digest

    def test_it_stores_each_source_as_a_utf8_text_file_named_by_its_guid(self):
        snapshot = feedback_snapshot()
        with zipfile.ZipFile(io.BytesIO(qdpx.export_project(snapshot))) as archive:
            names = archive.namelist()
            second = archive.read(f"sources/{FILE}.txt")
            xml = archive.read("project.qde").decode("utf-8")

        assert names == ["project.qde", f"sources/{SOURCE}.txt", f"sources/{FILE}.txt"]
        assert second.decode("utf-8") == snapshot.sources[1].text
        assert f'plainTextPath="internal://{FILE}.txt"' in xml

    def test_it_nests_codes_in_the_order_the_schema_requires(self):
        root = ElementTree.fromstring(qde_of(qdpx.export_project(feedback_snapshot())))

        assert [child.tag.split("}")[1] for child in root] == [
            "Users",
            "CodeBook",
            "Sources",
            "Description",
        ]
        (helpful,) = root.findall(f"{{{NS}}}CodeBook/{{{NS}}}Codes/{{{NS}}}Code")
        assert helpful.get("guid") == HELPFUL and helpful.get("isCodable") == "false"
        assert helpful.findtext(f"{{{NS}}}Description") == "What helped"
        children = helpful.findall(f"{{{NS}}}Code")
        assert [(c.get("name"), c.get("color")) for c in children] == [
            ("Coach", None),
            ("Content", "#abc"),
        ]

    def test_it_leaves_out_codebook_and_sources_when_there_are_none(self):
        xml = qde_of(qdpx.export_project(ProjectSnapshot(name="Empty")))

        assert b"CodeBook" not in xml and b"Sources" not in xml and b"Users" not in xml
        assert schema_errors(xml) == []

    def test_it_writes_codepoint_positions_coders_and_one_coding_per_code(self):
        xml = qde_of(qdpx.export_project(feedback_snapshot())).decode("utf-8")

        ben = xml[xml.index(f'<PlainTextSelection guid="{CODING}"') :]
        ben = ben[: ben.index("</PlainTextSelection>")]
        assert 'startPosition="0" endPosition="37"' in ben
        assert f'creatingUser="{BEN}"' in ben
        assert ben.count("<Coding ") == 2
        assert f'<CodeRef targetGUID="{COACH}"' in ben and f'"{CONTENT}"' in ben
        # 👍🏽 is two codepoints and é is e + a combining accent: positions are codepoints.
        assert 'name="Ça m\'a aidé 👍🏽"' in xml

    def test_it_gives_the_same_bytes_for_the_same_snapshot(self):
        assert qdpx.export_project(feedback_snapshot()) == qdpx.export_project(feedback_snapshot())

    def test_it_records_the_creation_time_in_utc_when_given(self):
        from datetime import datetime, timedelta, timezone

        moment = datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
        xml = qde_of(qdpx.export_project(feedback_snapshot(), created_at=moment))

        assert b'creationDateTime="2026-03-01T09:30:00Z"' in xml
        assert schema_errors(xml) == []

    def test_it_refuses_a_snapshot_that_contradicts_itself(self):
        good = feedback_snapshot()
        outside = SelectionRef(guid(), SOURCE, 10, len(TEXT) + 1, ANA, (COACH,))
        unknown_code = SelectionRef(guid(), SOURCE, 0, 3, ANA, (guid(),))
        cycle = [CodeRef(COACH, "A", parent_guid=CONTENT), CodeRef(CONTENT, "B", parent_guid=COACH)]
        cases = [
            (
                ProjectSnapshot(good.name, good.users, good.codes, good.sources, [outside]),
                "outside",
            ),
            (
                ProjectSnapshot(good.name, good.users, good.codes, good.sources, [unknown_code]),
                "unknown code",
            ),
            (ProjectSnapshot(good.name, codes=cycle), "cycle"),
            (ProjectSnapshot(good.name, users=[UserRef("not-a-guid", "x")]), "not a GUID"),
        ]
        for snapshot, words in cases:
            with pytest.raises(ValueError, match=words):
                qdpx.export_project(snapshot)

    def test_it_removes_characters_xml_cannot_carry_from_names(self):
        snapshot = ProjectSnapshot(name="Bell\x07 study", codes=[CodeRef(COACH, "Co\x00ach")])

        xml = qde_of(qdpx.export_project(snapshot))

        assert schema_errors(xml) == []
        assert qdpx.import_project(qdpx.export_project(snapshot)).codes[0].name == "Coach"


# --- Round trips -------------------------------------------------------------------------

PIECES = [
    "I",
    "found",
    "the",
    "coach",
    "calls",
    "helpful",
    "sleep",
    "diary",
    "no time",
    ",",
    ".",
    " ",
    " ",
    " ",
    "\n",
    "\r\n",
    "\t",
    "é",
    "e\u0301",
    "n\u0303",
    "👍🏽",
    "👩\u200d👩\u200d👧",
    "🙂",
    "中文",
    "مرحبا",
    "Ω",
    "ß",
    "\u2028",
    "&",
    "<",
    ">",
    '"',
    "'",
    "]]>",
]


def random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(size))


def random_snapshot(rng: random.Random) -> ProjectSnapshot:
    """A canonical snapshot: codes in pre-order, selections grouped by source."""
    users = [UserRef(guid(rng), random_text(rng, rng.randint(0, 4))) for _ in range(3)]
    codes: list[CodeRef] = []

    def grow(parent: str | None, depth: int) -> None:
        for _ in range(rng.randint(0 if depth else 1, 3 if depth < 3 else 0)):
            code = CodeRef(
                guid=guid(rng),
                name=random_text(rng, rng.randint(1, 5)).replace("\r", ""),
                color=rng.choice([None, "#A1B2C3", "#fff"]),
                description=rng.choice(["", random_text(rng, 8).replace("\r", "")]),
                parent_guid=parent,
                is_codable=rng.random() < 0.8,
            )
            codes.append(code)
            grow(code.guid, depth + 1)

    grow(None, 0)
    sources, selections = [], []
    for index in range(rng.randint(1, 5)):
        text = random_text(rng, rng.randint(0, 40))
        source = SourceRef(guid(rng), f"P{index:03}_Q1 {random_text(rng, 2)}", text)
        sources.append(source)
        for _ in range(rng.randint(0, 6) if text else 0):
            start = rng.randrange(len(text))
            end = rng.randint(start + 1, len(text))
            applied = rng.sample(codes, rng.randint(0, min(3, len(codes))))
            chosen = tuple(code.guid for code in applied)
            coder = rng.choice([*[user.guid for user in users], None])
            selections.append(SelectionRef(guid(rng), source.guid, start, end, coder, chosen))
    return ProjectSnapshot(
        name=random_text(rng, 5),
        users=users,
        codes=codes,
        sources=sources,
        selections=selections,
        description=random_text(rng, 6).replace("\r", ""),
    )


class TestRoundTrip:
    def test_it_round_trips_random_unicode_projects_exactly(self):
        rng = random.Random(20260301)
        for _ in range(60):
            snapshot = random_snapshot(rng)
            data = qdpx.export_project(snapshot)

            assert schema_errors(qde_of(data)) == []
            assert qdpx.import_project(data) == snapshot

    def test_it_keeps_every_coded_passage_character_for_character(self):
        snapshot = feedback_snapshot()

        back = qdpx.import_project(qdpx.export_project(snapshot))

        texts = {source.guid: source.text for source in back.sources}
        passages = [texts[s.source_guid][s.start : s.end] for s in back.selections]
        assert passages[2] == "Ça m'a aidé 👍🏽"
        assert passages[3] == " — e\u0301norme.\r\nNo"

    def test_it_exports_an_imported_project_to_the_same_bytes(self):
        data = qdpx.export_project(feedback_snapshot())

        assert qdpx.export_project(qdpx.import_project(data)) == data


# --- Import ------------------------------------------------------------------------------


class TestImportProject:
    def test_it_imports_the_minimal_example(self):
        snapshot = qdpx.import_project((DATA / "minimal.qdpx").read_bytes())

        assert snapshot.name == "iCBT feedback"
        assert [user.name for user in snapshot.users] == ["coder_a", "coder_b"]
        assert [(c.name, c.is_codable) for c in snapshot.codes] == [
            ("Helpful", False),
            ("Content", True),
            ("Coach", True),
            ("Improve", False),
            ("More calls", True),
        ]
        assert snapshot.codes[0].description == "What participants found most helpful"
        assert snapshot.codes[2].parent_guid == snapshot.codes[0].guid
        texts = {source.guid: source.text for source in snapshot.sources}
        passages = [
            (texts[s.source_guid][s.start : s.end], s.coder_guid) for s in snapshot.selections
        ]
        assert passages == [
            ("The weekly coach calls kept me going.", ANA),
            ("The weekly coach calls kept me going.", BEN),
            ("The thought records were useful too.", ANA),
            ("Mostly the videos about worry;", BEN),
        ]
        assert snapshot.selections[0].code_guids == (COACH,)

    def test_it_imports_a_real_atlasti_23_export(self):
        snapshot, warnings = qdpx.import_project_with_warnings(
            (DATA / "atlasti-23-export.qdpx").read_bytes()
        )

        assert snapshot.name == "target-atlas-project"
        assert [user.name for user in snapshot.users] == ["Enric Llagostera", "ATLAS.ti"]
        commits = snapshot.codes[0]
        assert commits.name == "Commits" and commits.parent_guid is None
        assert [code.parent_guid for code in snapshot.codes[1:]] == [commits.guid] * 2
        assert snapshot.sources == [] and snapshot.selections == [] and warnings == []

    def test_it_matches_project_qde_and_sources_case_insensitively(self):
        qde = project(sources=text_source(selection(), path=f"internal://{FILE.lower()}.TXT"))
        data = make_zip({"Project.qde": qde, f"Sources/{FILE.lower()}.TXT": TEXT})

        snapshot = qdpx.import_project(data)

        assert snapshot.sources[0].text == TEXT

    def test_it_reads_inline_plain_text_content(self):
        inline = f"<PlainTextContent>{TEXT}</PlainTextContent>{selection()}"
        data = qdpx_file(project(sources=text_source(inline, path="")), files={})

        assert qdpx.import_project(data).sources[0].text == TEXT

    def test_it_normalises_guids_to_upper_case_without_braces(self):
        qde = project(sources=text_source(selection(user="{" + ANA.lower() + "}"))).replace(
            f'<User guid="{ANA}"', f'<User guid="{ANA.lower()}"'
        )

        snapshot = qdpx.import_project(qdpx_file(qde))

        assert snapshot.users[0].guid == ANA and snapshot.selections[0].coder_guid == ANA

    def test_it_splits_a_selection_coded_by_two_users(self):
        both = (
            f'<PlainTextSelection guid="{SELECTION}" startPosition="0" endPosition="37" '
            f'creatingUser="{ANA}">'
            f'<Coding guid="{guid()}" creatingUser="{ANA}"><CodeRef targetGUID="{COACH}"/>'
            f'</Coding><Coding guid="{guid()}" creatingUser="{BEN}">'
            f'<CodeRef targetGUID="{CONTENT}"/></Coding></PlainTextSelection>'
        )
        snapshot = qdpx.import_project(qdpx_file(project(sources=text_source(both))))

        assert [(s.coder_guid, s.code_guids) for s in snapshot.selections] == [
            (ANA, (COACH,)),
            (BEN, (CONTENT,)),
        ]
        assert snapshot.selections[0].guid == SELECTION
        assert snapshot.selections[1].guid != SELECTION

    def test_it_turns_a_coding_of_a_whole_source_into_a_selection_of_its_text(self):
        whole = f'<Coding guid="{CODING}" creatingUser="{BEN}"><CodeRef targetGUID="{COACH}"/>'
        snapshot = qdpx.import_project(qdpx_file(project(sources=text_source(whole + "</Coding>"))))

        assert snapshot.selections == [SelectionRef(CODING, SOURCE, 0, len(TEXT), BEN, (COACH,))]

    def test_it_builds_a_hierarchy_from_atlasti_8_flat_names(self):
        codes = (
            f'<Code guid="{HELPFUL}" name="Coke" isCodable="true"/>'
            f'<Code guid="{COACH}" name="Coke::diet Coke" isCodable="true"/>'
            f'<Code guid="{CONTENT}" name="Drinks::Tea::green" isCodable="true"/>'
        )
        sources = text_source(selection(code=CONTENT))

        snapshot = qdpx.import_project(qdpx_file(project(codes=codes, sources=sources)))

        by_name = {code.name: code for code in snapshot.codes}
        assert by_name["diet Coke"].parent_guid == HELPFUL
        assert by_name["green"].parent_guid == by_name["Tea"].guid
        assert by_name["Tea"].parent_guid == by_name["Drinks"].guid
        assert by_name["Drinks"].parent_guid is None and not by_name["Drinks"].is_codable
        names = [code.name for code in snapshot.codes]
        assert names.index("Drinks") < names.index("Tea") < names.index("green")

    def test_it_removes_a_byte_order_mark_from_source_texts(self):
        data = qdpx_file(files={f"sources/{FILE}.txt": "\ufeff" + TEXT})

        assert qdpx.import_project(data).sources[0].text == TEXT

    def test_it_warns_about_what_it_does_not_import(self):
        note = (
            f'<Notes><Note guid="{guid()}" name="memo"><PlainTextContent>m</PlainTextContent>'
            f"</Note></Notes>"
        )
        # Notes come right after Sources in the schema's order.
        snapshot, warnings = qdpx.import_project_with_warnings(qdpx_file(project(extra=note)))

        assert snapshot.selections and any("notes" in warning for warning in warnings)


# --- Bad and hostile files ---------------------------------------------------------------


def patched_sizes(data: bytes, name: str, file_size: int) -> bytes:
    """The archive with ``name``'s uncompressed size rewritten in both headers (a lie)."""
    raw = bytearray(data)
    encoded = name.encode()
    local = raw.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", raw, local + 26)[0]
        if raw[local + 30 : local + 30 + name_length] == encoded:
            struct.pack_into("<I", raw, local + 22, file_size)
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46 : central + 46 + name_length] == encoded:
            struct.pack_into("<I", raw, central + 24, file_size)
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)


class TestImportRefusesBadFiles:
    def test_it_refuses_a_file_that_is_not_a_zip(self):
        assert "not a ZIP" in refused(b"<Project/>")

    def test_it_refuses_a_zip_without_project_qde(self):
        message = refused(make_zip({f"sources/{FILE}.txt": TEXT, "nested/project.qde": ""}))

        assert "project.qde" in message

    def test_it_refuses_xml_that_fails_the_schema_naming_line_and_element(self):
        # Sources before Users: the schema fixes the order.
        qde = project().replace("<Users>", "<Later>", 1)
        users = qde[qde.index("<Later>") : qde.index("</Users>") + len("</Users>")]
        qde = qde.replace(users, "").replace(
            "</Project>", users.replace("<Later>", "<Users>") + "</Project>"
        )

        message = refused(qdpx_file(qde))

        assert "line 2" in message and "“Project”" in message and "'Users'" in message

    def test_it_refuses_an_invalid_attribute_naming_the_element(self):
        message = refused(qdpx_file(project().replace('isCodable="true"', 'isCodable="yes"', 1)))

        assert "“Code”" in message and "isCodable" in message and "line 4" in message

    def test_it_refuses_a_document_that_is_not_a_project(self):
        codebook = (
            '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
            f'<Code guid="{COACH}" name="Coach" isCodable="true"/></Codes></CodeBook>'
        )

        assert "not a REFI-QDA project" in refused(qdpx_file(codebook))

    def test_it_refuses_xml_that_is_not_well_formed(self):
        assert "not well-formed" in refused(qdpx_file(project()[:-20]))

    @pytest.mark.parametrize(
        "name",
        [
            "../evil.txt",
            "sources/../../evil.txt",
            "/etc/passwd",
            "sources\\..\\evil.txt",
            "C:/Windows/evil.txt",
            "c:evil.txt",
        ],
    )
    def test_it_refuses_path_traversal_in_entry_names(self, name):
        data = make_zip({"project.qde": project(), f"sources/{FILE}.txt": TEXT, name: "x"})

        message = refused(data)

        assert "unsafe file name" in message

    def test_it_refuses_an_unsafe_internal_path_in_the_project(self):
        qde = project(sources=text_source(selection(), path="internal://../project.qde"))

        assert "unsafe file path" in refused(qdpx_file(qde))

    def test_it_refuses_a_declared_size_over_the_limit(self):
        big = b"\0" * (3 * 1024 * 1024)
        data = qdpx_file(files={f"sources/{FILE}.txt": TEXT, "sources/big.txt": big})

        message = refused(data, max_total_bytes=2 * 1024 * 1024)

        assert "more than 2 MB" in message and "zip bomb" in message

    def test_it_refuses_a_compression_ratio_over_100_to_1(self):
        bomb = b"\0" * (8 * 1024 * 1024)  # deflates about 1000:1
        data = qdpx_file(files={f"sources/{FILE}.txt": TEXT, "sources/bomb.txt": bomb})

        assert "compressed more than 100 times" in refused(data)

    def test_it_counts_real_bytes_rather_than_trusting_the_headers(self):
        text = ("The coach calls helped. " * 40_000).encode()  # about 1 MB, 300:1 or so
        data = qdpx_file(files={f"sources/{FILE}.txt": text})
        lying = patched_sizes(data, f"sources/{FILE}.txt", 1000)

        message = refused(lying)

        assert "damaged" in message

    def test_it_refuses_too_many_entries(self):
        files = {f"sources/{i}.txt": "x" for i in range(10)}
        files[f"sources/{FILE}.txt"] = TEXT

        assert "at most 5" in refused(qdpx_file(files=files), max_files=5)

    def test_it_refuses_entity_expansion(self):
        laughs = (
            '<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY a "ha">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
            f'<Project xmlns="{NS}" name="&c;"/>'
        )

        assert "DTD or entities" in refused(qdpx_file(laughs))

    def test_it_refuses_external_entities(self):
        xxe = (
            '<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            f'\n<Project xmlns="{NS}" name="&x;"/>'
        )

        assert "DTD or entities" in refused(qdpx_file(xxe))

    def test_it_refuses_absurdly_deep_nesting(self):
        deep = f'<Code guid="{guid()}" name="c" isCodable="true">' * 100 + "</Code>" * 100

        assert "levels deep" in refused(qdpx_file(project(codes=deep)))

    @pytest.mark.parametrize(("start", "end"), [(0, len(TEXT) + 1), (40, 40), (50, 45), (-1, 5)])
    def test_it_refuses_a_selection_outside_its_text(self, start, end):
        message = refused(qdpx_file(project(sources=text_source(selection(start, end)))))

        assert f"Selection {SELECTION}" in message and "outside the text" in message
        assert "P001_Q1" in message and f"{len(TEXT)} characters" in message

    def test_it_refuses_a_code_that_is_not_in_the_codebook(self):
        stranger = guid()

        message = refused(qdpx_file(project(sources=text_source(selection(code=stranger)))))

        assert stranger in message and "not in the codebook" in message

    def test_it_refuses_a_user_who_is_not_among_the_users(self):
        stranger = guid()

        message = refused(qdpx_file(project(sources=text_source(selection(user=stranger)))))

        assert stranger in message and "not among the project's users" in message

    def test_it_refuses_a_source_whose_text_file_is_missing(self):
        assert "is missing" in refused(qdpx_file(files={}))

    def test_it_refuses_sources_that_are_not_plain_text(self):
        pdf = f'<PDFSource guid="{SOURCE}" name="Interview.pdf" path="internal://x.pdf"/>'

        message = refused(qdpx_file(project(sources=pdf)))

        assert "Only plain-text sources" in message and "Interview.pdf" in message

    def test_it_refuses_a_rich_text_source_without_a_plain_text_version(self):
        docx = (
            f'<TextSource guid="{SOURCE}" name="Notes.docx" richTextPath="internal://{FILE}.docx"/>'
        )

        assert "Only plain-text sources" in refused(qdpx_file(project(sources=docx)))

    def test_it_refuses_both_inline_text_and_a_text_file(self):
        both = text_source(f"<PlainTextContent>{TEXT}</PlainTextContent>{selection()}")

        assert "both inline text and a text file" in refused(qdpx_file(project(sources=both)))

    def test_it_refuses_a_source_with_no_text_at_all(self):
        assert "has no text" in refused(qdpx_file(project(sources=text_source(path=""))))

    def test_it_refuses_external_source_files(self):
        qde = project(sources=text_source(selection(), path="relative://P001.txt"))

        assert "outside the .qdpx" in refused(qdpx_file(qde))

    def test_it_refuses_a_guid_used_twice(self):
        twice = selection() + selection(40, 50)

        assert f"GUID {SELECTION} twice" in refused(qdpx_file(project(sources=text_source(twice))))

    def test_it_refuses_a_source_text_that_is_not_utf8(self):
        data = qdpx_file(files={f"sources/{FILE}.txt": TEXT.encode("utf-16")})

        assert "not UTF-8" in refused(data)
