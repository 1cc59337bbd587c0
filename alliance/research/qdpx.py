"""REFI-QDA project exchange (``.qdpx``): export a project, import one coded elsewhere.

A pure module over `exchange_types.ProjectSnapshot`: no database, no request. The research
services build a snapshot from a project and write an imported one back.

Public interface (the research pages, API and services call these):

``export_project(snapshot, *, created_at=None) -> bytes``
    A ZIP holding ``project.qde`` (UTF-8 XML in ``urn:QDA-XML:project:1.0``, valid against
    ``schemas/Project-mrt2019.xsd``) and one ``sources/<GUID>.txt`` (UTF-8) per source.
    Users, the code hierarchy (nested ``Code`` elements; ``CodeBook`` left out when there
    are no codes), ``TextSource`` elements with ``plainTextPath="internal://<GUID>.txt"``
    (``Sources`` left out when there are none), and one ``PlainTextSelection`` per
    selection with ``startPosition``/``endPosition`` in Unicode codepoints (end exclusive,
    Python string offsets), ``creatingUser`` and one ``Coding``/``CodeRef`` per code.
    The same snapshot always gives the same bytes (derived GUIDs, fixed ZIP times unless
    ``created_at`` is given). Raises ``ValueError`` when the snapshot contradicts itself
    (a selection outside its text, an unknown code, a cycle in the hierarchy): that is a
    programming error, not bad user input.

``import_project(data, *, max_total_bytes=50 MiB, max_files=10_000) -> ProjectSnapshot``
    Reads a ``.qdpx``. Anything wrong raises ``QdpxError(message)`` with a message meant
    for the person who uploaded the file, and nothing is imported: not a ZIP, no
    ``project.qde`` (names matched case-insensitively, so ``Project.qde`` and ``Sources/``
    work), unsafe entry names (``..``, absolute paths, backslashes, drive letters), a zip
    bomb (too many entries, declared or actual size over the limit, compression ratio over
    100:1; sizes are counted while decompressing, never taken from the headers alone), a
    DTD or entity declaration (refused by defusedxml), XML that fails the schema (the
    message names the line and the element), non-text sources, a text source with both or
    neither of ``PlainTextContent`` and ``plainTextPath``, a selection outside its text,
    references to unknown codes, users or files.

``import_project_with_warnings(...) -> tuple[ProjectSnapshot, list[str]]``
    The same, with the list of things in the file that Alliance does not import (notes,
    variables, cases, sets, graphs, links, memos on selections): REFI-QDA §7 asks that
    the user is told about such data loss.

``validate_project_xml(xml: bytes) -> None``
    Raises ``QdpxError`` unless ``xml`` is a valid ``project.qde``.

What an import returns: GUIDs in upper case without braces; users and sources in file
order; codes in pre-order (a parent before its children; ATLAS.ti 8's flat ``A::B`` names
become a hierarchy); selections grouped by source in file order. A selection whose codings
were made by several users becomes one selection per user; a coding of a whole source
becomes a selection of its whole text. Source texts are kept exactly as in the file (a
leading byte-order mark removed), so positions mean what the exporting tool meant.
"""

from __future__ import annotations

import functools
import io
import re
import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - builds our own XML; parsing uses defusedxml
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import xmlschema
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.utils.translation import gettext as _

from alliance.research.exchange_types import (
    CodeRef,
    ProjectSnapshot,
    SelectionRef,
    SourceRef,
    UserRef,
)

NS = "urn:QDA-XML:project:1.0"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
PROJECT_SCHEMA = SCHEMA_DIR / "Project-mrt2019.xsd"

MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 10_000
# A ratio above this is a zip bomb, but only once an entry is big enough to matter.
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
# Elements nest a few levels (Project/Sources/TextSource/PlainTextSelection/Coding/CodeRef)
# plus the code hierarchy; anything deeper is an attack on the recursive validator.
MAX_XML_DEPTH = 64
ORIGIN = "Alliance"
# Namespace of the GUIDs we derive (codings, split selections, flat-name parents), so that
# exporting the same snapshot twice gives the same file.
GUID_NAMESPACE = uuid.UUID("6f1d2c3e-8a47-5b9e-9c21-4d7a0b3e5f18")

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_READ_CHUNK = 64 * 1024
_NAME_IN_MESSAGE = 60
_SELECTION_NAME = 100
# Characters XML 1.0 cannot carry at all; they are removed from names and descriptions.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_GUID = re.compile(
    r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$"
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_HIERARCHY_SEPARATOR = "::"
_MAX_FLAT_LEVELS = 16


class QdpxError(Exception):
    """A ``.qdpx`` that cannot be imported; ``message`` is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _short(text: str) -> str:
    """A user-supplied name, cut to a length that fits in a message."""
    text = " ".join(text.split())
    return text if len(text) <= _NAME_IN_MESSAGE else text[: _NAME_IN_MESSAGE - 1] + "…"


def normalise_guid(value: str) -> str | None:
    """``value`` as an upper-case GUID without braces, or None when it is not a GUID."""
    match = _GUID.match(value.strip()) if isinstance(value, str) else None
    return match.group(1).upper() if match else None


def derived_guid(*parts: str) -> str:
    """A stable GUID for something the other side does not name (a Coding, a split)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(parts))).upper()


@functools.cache
def project_schema() -> xmlschema.XMLSchema:
    """The REFI-QDA 1.5 project schema, from our own copy (never fetched)."""
    return xmlschema.XMLSchema(str(PROJECT_SCHEMA))


# --- Export ----------------------------------------------------------------------------


def export_project(snapshot: ProjectSnapshot, *, created_at: datetime | None = None) -> bytes:
    """The snapshot as a ``.qdpx`` (ZIP) file; see the module docstring."""
    _check_snapshot(snapshot)
    stamp = _ZIP_EPOCH
    if created_at is not None:
        moment = created_at.astimezone(UTC)
        stamp = (
            max(moment.year, 1980),
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write_entry(archive, "project.qde", project_xml(snapshot, created_at=created_at), stamp)
        for source in snapshot.sources:
            path = f"sources/{_guid_out(source.guid)}.txt"
            _write_entry(archive, path, source.text.encode("utf-8"), stamp)
    return buffer.getvalue()


def _write_entry(archive: zipfile.ZipFile, name: str, data: bytes, stamp: tuple) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def project_xml(snapshot: ProjectSnapshot, *, created_at: datetime | None = None) -> bytes:
    """The ``project.qde`` document of the snapshot (UTF-8, with an XML declaration)."""
    _check_snapshot(snapshot)
    # Tags are written unqualified under a default xmlns: ElementTree's own default-namespace
    # option refuses unqualified attributes, and register_namespace would be global state.
    root = ET.Element("Project", {"xmlns": NS, "name": _clean(snapshot.name), "origin": ORIGIN})
    if created_at is not None:
        root.set("creationDateTime", created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    # Child order is fixed by the schema: Users, CodeBook, ..., Sources, ..., Description.
    if snapshot.users:
        users = ET.SubElement(root, "Users")
        for user in snapshot.users:
            ET.SubElement(users, "User", {"guid": _guid_out(user.guid), "name": _clean(user.name)})
    if snapshot.codes:
        codes = ET.SubElement(ET.SubElement(root, "CodeBook"), "Codes")
        _add_codes(codes, snapshot.codes)
    if snapshot.sources:
        _add_sources(ET.SubElement(root, "Sources"), snapshot)
    if snapshot.description:
        ET.SubElement(root, "Description").text = _clean_text(snapshot.description)
    ET.indent(root)  # one element a line, so a schema error elsewhere can name its line
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _add_codes(parent: ET.Element, codes: list[CodeRef]) -> None:
    children: dict[str | None, list[CodeRef]] = {}
    for code in codes:
        children.setdefault(code.parent_guid, []).append(code)
    # Depth-first, siblings in snapshot order, without recursion (hierarchies can be deep).
    stack = [(code, parent) for code in reversed(children.get(None, []))]
    while stack:
        code, into = stack.pop()
        attrs = {
            "guid": _guid_out(code.guid),
            "name": _clean(code.name),
            "isCodable": "true" if code.is_codable else "false",
        }
        if code.color:
            attrs["color"] = code.color
        element = ET.SubElement(into, "Code", attrs)
        if code.description:
            ET.SubElement(element, "Description").text = _clean_text(code.description)
        stack.extend((child, element) for child in reversed(children.get(code.guid, [])))


def _add_sources(parent: ET.Element, snapshot: ProjectSnapshot) -> None:
    by_source: dict[str, list[SelectionRef]] = {}
    for selection in snapshot.selections:
        by_source.setdefault(selection.source_guid, []).append(selection)
    for source in snapshot.sources:
        guid = _guid_out(source.guid)
        element = ET.SubElement(
            parent,
            "TextSource",
            {
                "guid": guid,
                "name": _clean(source.name),
                "plainTextPath": f"internal://{guid}.txt",
            },
        )
        for selection in by_source.get(source.guid, []):
            attrs = {
                "guid": _guid_out(selection.guid),
                "name": _clean(source.text[selection.start : selection.end][:_SELECTION_NAME]),
                "startPosition": str(selection.start),
                "endPosition": str(selection.end),
            }
            coder = _guid_out(selection.coder_guid) if selection.coder_guid else None
            if coder:
                attrs["creatingUser"] = coder
            chosen = ET.SubElement(element, "PlainTextSelection", attrs)
            for code_guid in selection.code_guids:
                coding_attrs = {"guid": derived_guid("coding", attrs["guid"], code_guid.upper())}
                if coder:
                    coding_attrs["creatingUser"] = coder
                coding = ET.SubElement(chosen, "Coding", coding_attrs)
                ET.SubElement(coding, "CodeRef", {"targetGUID": _guid_out(code_guid)})


def _guid_out(value: str) -> str:
    guid = normalise_guid(value)
    if guid is None:
        raise ValueError(f"not a GUID: {value!r}")
    return guid


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text or "")


def _clean_text(text: str) -> str:
    # An XML parser turns "\r\n" into "\n" in element text: write what will be read back.
    return _clean(text.replace("\r\n", "\n").replace("\r", "\n"))


def _check_snapshot(snapshot: ProjectSnapshot) -> None:
    """Refuse a snapshot that would make an invalid or lying export."""
    seen: set[str] = set()
    for kind, items in (
        ("user", snapshot.users),
        ("code", snapshot.codes),
        ("source", snapshot.sources),
        ("selection", snapshot.selections),
    ):
        for item in items:
            guid = _guid_out(item.guid)
            if guid in seen:
                raise ValueError(f"duplicate GUID {guid} ({kind})")
            seen.add(guid)
    code_guids = {code.guid for code in snapshot.codes}
    for code in snapshot.codes:
        if code.parent_guid is not None and code.parent_guid not in code_guids:
            raise ValueError(f"code {code.guid} has an unknown parent {code.parent_guid}")
        if code.color and not re.fullmatch(r"#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", code.color):
            raise ValueError(f"code {code.guid} has a colour that is not #RRGGBB: {code.color}")
    _check_hierarchy(snapshot.codes)
    texts = {source.guid: source.text for source in snapshot.sources}
    user_guids = {user.guid for user in snapshot.users}
    for selection in snapshot.selections:
        if selection.source_guid not in texts:
            raise ValueError(f"selection {selection.guid} has an unknown source")
        if not 0 <= selection.start < selection.end <= len(texts[selection.source_guid]):
            raise ValueError(f"selection {selection.guid} is outside its source text")
        if selection.coder_guid is not None and selection.coder_guid not in user_guids:
            raise ValueError(f"selection {selection.guid} has an unknown coder")
        for code_guid in selection.code_guids:
            if code_guid not in code_guids:
                raise ValueError(f"selection {selection.guid} applies an unknown code")


def _check_hierarchy(codes: list[CodeRef]) -> None:
    parent_of = {code.guid: code.parent_guid for code in codes}
    settled: set[str] = set()
    for code in codes:
        path: list[str] = []
        guid: str | None = code.guid
        while guid is not None and guid not in settled:
            if guid in path:
                raise ValueError(f"the code hierarchy has a cycle through {guid}")
            path.append(guid)
            guid = parent_of.get(guid)
        settled.update(path)


# --- Import: the archive ---------------------------------------------------------------


class _Budget:
    """Bytes we are still willing to decompress, shared by every entry of one archive."""

    def __init__(self, total: int):
        self.remaining = total


def _too_big(limit: int) -> QdpxError:
    return QdpxError(
        _(
            "The file unpacks to more than %(limit)s MB; it looks like a zip bomb and was "
            "not imported."
        )
        % {"limit": f"{limit / (1024 * 1024):g}"}
    )


def _bomb() -> QdpxError:
    return QdpxError(
        _(
            "A file inside the .qdpx is compressed more than %(ratio)s times; it looks like a "
            "zip bomb and was not imported."
        )
        % {"ratio": MAX_COMPRESSION_RATIO}
    )


def _open_archive(
    data: bytes, *, max_total_bytes: int, max_files: int
) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The archive and its file entries by lower-case name, after every header check."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise QdpxError(_("This is not a .qdpx file: it is not a ZIP archive.")) from error
    try:
        return archive, _checked_entries(infos, max_total_bytes, max_files)
    except QdpxError:
        archive.close()
        raise


def _checked_entries(
    infos: list[zipfile.ZipInfo], max_total_bytes: int, max_files: int
) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > max_files:
        raise QdpxError(
            _("The .qdpx holds %(count)s files; at most %(limit)s can be imported.")
            % {"count": len(infos), "limit": max_files}
        )
    entries: dict[str, zipfile.ZipInfo] = {}
    declared = 0
    for info in infos:
        _check_entry_name(info.filename)
        if info.flag_bits & 0x1:
            raise QdpxError(_("The .qdpx is encrypted; export it again without a password."))
        declared += info.file_size
        if declared > max_total_bytes:
            raise _too_big(max_total_bytes)
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise _bomb()
        if info.is_dir():
            continue
        key = info.filename.lower()
        if key in entries:
            raise QdpxError(
                _("The .qdpx holds two files named “%(name)s”; it cannot be read safely.")
                % {"name": _short(info.filename)}
            )
        entries[key] = info
    return entries


def _check_entry_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or name.startswith("/")
        or _DRIVE.match(name)
        or any(part == ".." for part in parts)
    ):
        raise QdpxError(
            _("The .qdpx contains an unsafe file name (“%(name)s”): it was not imported.")
            % {"name": _short(name)}
        )


def _read_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, max_total_bytes: int
) -> bytes:
    """Decompress one entry, counting real bytes: headers can lie."""
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_READ_CHUNK):
                total += len(chunk)
                if total > budget.remaining:
                    raise _too_big(max_total_bytes)
                if total > info.file_size:
                    raise QdpxError(_("The .qdpx is damaged: a file is larger than it says."))
                if total > RATIO_FLOOR_BYTES and total > MAX_COMPRESSION_RATIO * max(
                    info.compress_size, 1
                ):
                    raise _bomb()
                chunks.append(chunk)
    except QdpxError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ) as error:
        raise QdpxError(
            _("The .qdpx is damaged and cannot be read (%(name)s).")
            % {"name": _short(info.filename)}
        ) from error
    budget.remaining -= total
    return b"".join(chunks)


# --- Import: the XML -------------------------------------------------------------------


class _Element(ET.Element):
    """An element that remembers its line, so schema errors can say where they are."""

    sourceline: int | None = None


class _LineTreeBuilder(ET.TreeBuilder):
    def __init__(self) -> None:
        super().__init__(element_factory=_Element)
        self.expat = None

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        if self.expat is not None:
            element.sourceline = self.expat.CurrentLineNumber
        return element


def _parse_xml(xml: bytes) -> ET.Element:
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    # The pure-Python XMLParser that defusedxml extends keeps its expat parser here.
    builder.expat = parser.parser
    try:
        parser.feed(xml)
        root = parser.close()
    except DefusedXmlException as error:
        raise QdpxError(
            _("project.qde declares a DTD or entities, which are refused for safety.")
        ) from error
    except ET.ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else "?"
        raise QdpxError(
            _("project.qde is not well-formed XML (line %(line)s).") % {"line": line}
        ) from error
    _check_depth(root)
    return root


def _check_depth(root: ET.Element) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_XML_DEPTH:
            raise QdpxError(
                _("project.qde nests elements more than %(limit)s levels deep.")
                % {"limit": MAX_XML_DEPTH}
            )
        stack.extend((child, depth + 1) for child in element)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def validate_project_xml(xml: bytes) -> None:
    """Raise ``QdpxError`` unless ``xml`` is a ``project.qde`` valid against the schema."""
    _validate_tree(_parse_xml(xml))


def _validate_tree(root: ET.Element) -> None:
    if root.tag != _q("Project"):
        raise QdpxError(
            _(
                "project.qde is not a REFI-QDA project: its root element is “%(tag)s”, "
                "expected “Project” in namespace %(ns)s."
            )
            % {"tag": _short(root.tag), "ns": NS}
        )
    try:
        error = next(project_schema().iter_errors(root), None)
    except RecursionError as recursion:
        raise QdpxError(_("project.qde is nested too deeply to be read.")) from recursion
    if error is None:
        return
    element = error.elem if error.elem is not None else root
    raise QdpxError(
        _(
            "project.qde does not follow the REFI-QDA schema at line %(line)s, element "
            "“%(element)s”: %(reason)s"
        )
        % {
            "line": getattr(element, "sourceline", None) or "?",
            "element": _local(element.tag),
            "reason": (error.reason or error.message).replace(f"{{{NS}}}", "").strip(),
        }
    )


# --- Import: building the snapshot ----------------------------------------------------


@dataclass
class _Reader:
    archive: zipfile.ZipFile
    entries: dict[str, zipfile.ZipInfo]
    budget: _Budget
    max_total_bytes: int


def import_project(
    data: bytes, *, max_total_bytes: int = MAX_TOTAL_BYTES, max_files: int = MAX_FILES
) -> ProjectSnapshot:
    """The project in a ``.qdpx``; raises ``QdpxError`` (and imports nothing) when unsafe
    or invalid. See the module docstring for the checks and the shape of the result."""
    snapshot, _warnings = import_project_with_warnings(
        data, max_total_bytes=max_total_bytes, max_files=max_files
    )
    return snapshot


def import_project_with_warnings(
    data: bytes, *, max_total_bytes: int = MAX_TOTAL_BYTES, max_files: int = MAX_FILES
) -> tuple[ProjectSnapshot, list[str]]:
    """As `import_project`, with the things in the file that are not imported (§7)."""
    archive, entries = _open_archive(data, max_total_bytes=max_total_bytes, max_files=max_files)
    with archive:
        reader = _Reader(archive, entries, _Budget(max_total_bytes), max_total_bytes)
        info = entries.get("project.qde")
        if info is None:
            raise QdpxError(_("The .qdpx has no project.qde file at its top level."))
        root = _parse_xml(_read_entry(archive, info, reader.budget, max_total_bytes))
        _validate_tree(root)
        return _build_snapshot(root, reader)


def _build_snapshot(root: ET.Element, reader: _Reader) -> tuple[ProjectSnapshot, list[str]]:
    warnings = _unsupported(root)
    guids: set[str] = set()

    def claim(raw: str, what: str) -> str:
        guid = normalise_guid(raw)  # the schema has checked the pattern already
        if guid in guids:
            raise QdpxError(
                _("project.qde uses the GUID %(guid)s twice (%(what)s).")
                % {"guid": guid, "what": what}
            )
        guids.add(guid)
        return guid

    users = []
    for element in root.iterfind(f"{_q('Users')}/{_q('User')}"):
        guid = claim(element.get("guid"), "User")
        name = element.get("name")
        if name is None:
            name = element.get("id") or _("User %(guid)s") % {"guid": guid[:8]}
        users.append(UserRef(guid=guid, name=name))
    codes = _read_codes(root, claim)
    sources: list[SourceRef] = []
    selections: list[SelectionRef] = []
    user_guids = {user.guid for user in users}
    code_guids = {code.guid for code in codes}
    sources_element = root.find(_q("Sources"))
    for element in sources_element if sources_element is not None else ():
        if element.tag != _q("TextSource"):
            raise QdpxError(
                _("Only plain-text sources can be imported: “%(name)s” is a %(kind)s.")
                % {
                    "name": _short(element.get("name") or element.get("guid")),
                    "kind": _local(element.tag),
                }
            )
        source = SourceRef(
            guid=claim(element.get("guid"), "TextSource"),
            name=_attribute(element, "name", element.get("guid")),
            text=_source_text(element, reader),
        )
        sources.append(source)
        selections.extend(_read_selections(element, source, claim, user_guids, code_guids))
    description = root.findtext(_q("Description")) or ""
    snapshot = ProjectSnapshot(
        name=root.get("name"),
        users=users,
        codes=codes,
        sources=sources,
        selections=selections,
        description=description,
    )
    return snapshot, warnings


def _attribute(element: ET.Element, name: str, default: str) -> str:
    value = element.get(name)
    return default if value is None else value


def _read_codes(root: ET.Element, claim) -> list[CodeRef]:
    codes: list[CodeRef] = []
    codes_element = root.find(f"{_q('CodeBook')}/{_q('Codes')}")
    if codes_element is None:
        return codes
    stack = [(element, None) for element in reversed(codes_element.findall(_q("Code")))]
    while stack:
        element, parent = stack.pop()
        guid = claim(element.get("guid"), "Code")
        codes.append(
            CodeRef(
                guid=guid,
                name=element.get("name"),
                color=element.get("color"),
                description=element.findtext(_q("Description")) or "",
                parent_guid=parent,
                is_codable=element.get("isCodable").strip() in ("true", "1"),
            )
        )
        stack.extend((child, guid) for child in reversed(element.findall(_q("Code"))))
    return _unflatten(codes)


def _unflatten(codes: list[CodeRef]) -> list[CodeRef]:
    """Turn ATLAS.ti 8's flat ``Parent::Child`` names into a hierarchy (REFI-QDA A.2).

    A missing parent becomes a non-codable code with a GUID derived from its path."""

    def path_of(code: CodeRef) -> list[str] | None:
        if code.parent_guid is not None or _HIERARCHY_SEPARATOR not in code.name:
            return None
        path = [part.strip() for part in code.name.split(_HIERARCHY_SEPARATOR)]
        return path if all(path) and len(path) <= _MAX_FLAT_LEVELS else None

    if not any(path_of(code) for code in codes):
        return codes
    by_path = {
        _HIERARCHY_SEPARATOR.join(path_of(code) or [code.name]): code.guid
        for code in codes
        if code.parent_guid is None
    }
    rebuilt: list[CodeRef] = []

    def parent_for(path: list[str]) -> str:
        key = _HIERARCHY_SEPARATOR.join(path)
        if key not in by_path:
            grand = parent_for(path[:-1]) if len(path) > 1 else None
            made = CodeRef(
                guid=derived_guid("code-path", key),
                name=path[-1],
                parent_guid=grand,
                is_codable=False,
            )
            by_path[key] = made.guid
            rebuilt.append(made)
        return by_path[key]

    for code in codes:
        path = path_of(code)
        if path:
            code = replace(
                code, name=path[-1], parent_guid=parent_for(path[:-1]) if len(path) > 1 else None
            )
        rebuilt.append(code)
    return _preorder(rebuilt)


def _preorder(codes: list[CodeRef]) -> list[CodeRef]:
    """Parents before children, siblings in the given order."""
    children: dict[str | None, list[CodeRef]] = {}
    for code in codes:
        children.setdefault(code.parent_guid, []).append(code)
    ordered: list[CodeRef] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        code = stack.pop()
        ordered.append(code)
        stack.extend(reversed(children.get(code.guid, [])))
    return ordered


def _source_text(element: ET.Element, reader: _Reader) -> str:
    name = element.get("name") or element.get("guid")
    inline = element.find(_q("PlainTextContent"))
    path = element.get("plainTextPath")
    if inline is not None and path:
        raise QdpxError(
            _("Source “%(name)s” has both inline text and a text file; REFI-QDA allows one.")
            % {"name": _short(name)}
        )
    if inline is not None:
        return inline.text or ""
    if not path:
        if element.get("richTextPath"):
            raise QdpxError(
                _("Only plain-text sources can be imported: “%(name)s” has no plain-text version.")
                % {"name": _short(name)}
            )
        raise QdpxError(_("Source “%(name)s” has no text.") % {"name": _short(name)})
    scheme, _sep, file_name = path.partition("://")
    if scheme.lower() != "internal":
        raise QdpxError(
            _(
                "Source “%(name)s” points to a file outside the .qdpx (%(path)s); only sources "
                "inside the file can be imported."
            )
            % {"name": _short(name), "path": _short(path)}
        )
    if not file_name or "/" in file_name or "\\" in file_name or file_name in (".", ".."):
        raise QdpxError(
            _("Source “%(name)s” has an unsafe file path (%(path)s).")
            % {"name": _short(name), "path": _short(path)}
        )
    info = reader.entries.get(f"sources/{file_name}".lower())
    if info is None:
        raise QdpxError(
            _("The text of source “%(name)s” (%(file)s) is missing from the .qdpx.")
            % {"name": _short(name), "file": _short(file_name)}
        )
    raw = _read_entry(reader.archive, info, reader.budget, reader.max_total_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise QdpxError(
            _("The text of source “%(name)s” is not UTF-8.") % {"name": _short(name)}
        ) from error


def _read_selections(
    element: ET.Element, source: SourceRef, claim, user_guids: set[str], code_guids: set[str]
) -> Iterator[SelectionRef]:
    def user(raw: str | None, where: str) -> str | None:
        if raw is None:
            return None
        guid = normalise_guid(raw)
        if guid not in user_guids:
            raise QdpxError(
                _(
                    "%(where)s in source “%(name)s” names a user (%(guid)s) who is not among "
                    "the project's users."
                )
                % {"where": where, "name": _short(source.name), "guid": guid}
            )
        return guid

    def code(coding: ET.Element, where: str) -> str:
        guid = normalise_guid(coding.find(_q("CodeRef")).get("targetGUID"))
        if guid not in code_guids:
            raise QdpxError(
                _(
                    "%(where)s in source “%(name)s” applies a code (%(guid)s) that is not in "
                    "the codebook."
                )
                % {"where": where, "name": _short(source.name), "guid": guid}
            )
        return guid

    for chosen in element.findall(_q("PlainTextSelection")):
        guid = claim(chosen.get("guid"), "PlainTextSelection")
        where = _("Selection %(guid)s") % {"guid": guid}
        start, end = int(chosen.get("startPosition")), int(chosen.get("endPosition"))
        if not 0 <= start < end <= len(source.text):
            raise QdpxError(
                _(
                    "%(where)s (characters %(start)s–%(end)s) lies outside the text of source "
                    "“%(name)s”, which has %(length)s characters."
                )
                % {
                    "where": where,
                    "start": start,
                    "end": end,
                    "name": _short(source.name),
                    "length": len(source.text),
                }
            )
        coder = user(chosen.get("creatingUser"), where)
        by_coder: dict[str | None, list[str]] = {}
        for coding in chosen.findall(_q("Coding")):
            claim(coding.get("guid"), "Coding")
            who = user(coding.get("creatingUser"), where) or coder
            by_coder.setdefault(who, []).append(code(coding, where))
        if not by_coder:
            by_coder[coder] = []
        for who, codes in by_coder.items():
            split_guid = guid if who == coder else derived_guid("selection", guid, str(who))
            yield SelectionRef(
                guid=split_guid,
                source_guid=source.guid,
                start=start,
                end=end,
                coder_guid=who,
                code_guids=tuple(codes),
            )
    # A Coding straight on the source codes the whole text.
    for coding in element.findall(_q("Coding")):
        guid = claim(coding.get("guid"), "Coding")
        where = _("Coding %(guid)s") % {"guid": guid}
        if not source.text:
            continue
        yield SelectionRef(
            guid=guid,
            source_guid=source.guid,
            start=0,
            end=len(source.text),
            coder_guid=user(coding.get("creatingUser"), where),
            code_guids=(code(coding, where),),
        )


def _unsupported(root: ET.Element) -> list[str]:
    """What the file holds that Alliance does not import, one plain sentence each."""
    labels = {
        "Variables": _("variables"),
        "Cases": _("cases"),
        "Notes": _("notes (memos)"),
        "Links": _("links"),
        "Sets": _("sets"),
        "Graphs": _("graphs"),
    }
    warnings = [
        _("The file's %(what)s are not imported.") % {"what": label}
        for tag, label in labels.items()
        if root.find(_q(tag)) is not None
    ]
    if root.find(f".//{_q('NoteRef')}") is not None:
        warnings.append(_("Links from codes, sources or selections to notes are not imported."))
    if root.find(f".//{_q('PlainTextSelection')}/{_q('Description')}") is not None:
        warnings.append(_("Descriptions of selections are not imported."))
    if root.find(f".//{_q('TextSource')}/{_q('Description')}") is not None:
        warnings.append(_("Descriptions of sources are not imported."))
    if root.find(f".//{_q('TextSource')}/{_q('VariableValue')}") is not None:
        warnings.append(_("Variable values of sources are not imported."))
    return warnings
