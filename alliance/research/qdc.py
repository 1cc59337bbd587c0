"""REFI-QDA codebook exchange (``.qdc``): a codebook as XML and back, validated against the
REFI-QDA 1.5 schema kept in ``schemas/Codebook-mrt2019.xsd``. Pure: no database.

Export nests child codes inside their parent (hierarchy by nesting, as REFI-QDA 1.5 and
ATLAS.ti 23 do). Import accepts nesting and also the flat ``Parent::Child`` names older
tools wrote, making the missing parents (not codable). A file that is not a valid codebook
(not XML, wrong namespace, fails the schema, declares entities, too large or too deep) is
refused with one clear message and nothing is imported.
"""

import io
import uuid
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import xmlschema
from django.utils.translation import gettext as _
from xmlschema.exceptions import XMLResourceError, XMLResourceForbidden

from alliance.research.exchange_types import CodeRef

NAMESPACE = "urn:QDA-XML:codebook:1.0"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 12
MAX_CODES = 5000
FLAT_SEPARATOR = "::"


class QdcError(ValueError):
    """A codebook file that cannot be imported; the message says why, for the user."""


@cache
def codebook_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_DIR / "Codebook-mrt2019.xsd"))


def tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def guid_text(value: str) -> str:
    """A GUID as REFI-QDA writes it: upper case, no braces."""
    return str(uuid.UUID(value.strip("{}"))).upper()


# --- Export --------------------------------------------------------------------------------


def export_codebook(codes: list[CodeRef], *, origin: str = "Alliance") -> bytes:
    """The codes as a ``.qdc`` document. Parents come before their children in ``codes``
    or after them: order among siblings is kept."""
    if not codes:
        raise QdcError(_("A codebook needs at least one code to be exported."))
    root = ElementTree.Element(tag("CodeBook"), {"origin": origin})
    container = ElementTree.SubElement(root, tag("Codes"))
    children: dict[str | None, list[CodeRef]] = {}
    known = {code.guid for code in codes}
    for code in codes:
        parent = code.parent_guid if code.parent_guid in known else None
        children.setdefault(parent, []).append(code)

    def add(parent_element: ElementTree.Element, code: CodeRef) -> None:
        attributes = {
            "guid": guid_text(code.guid),
            "name": code.name,
            "isCodable": "true" if code.is_codable else "false",
        }
        if code.color:
            attributes["color"] = code.color.upper()
        element = ElementTree.SubElement(parent_element, tag("Code"), attributes)
        if code.description:
            ElementTree.SubElement(element, tag("Description")).text = code.description
        for child in children.get(code.guid, []):
            add(element, child)

    for code in children.get(None, []):
        add(container, code)
    ElementTree.register_namespace("", NAMESPACE)
    data = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    errors = list(codebook_schema().iter_errors(io.BytesIO(data)))
    if errors:  # a bug on our side, never the user's: stop rather than write a bad file
        raise AssertionError(f"exported codebook does not validate: {errors[0].reason}")
    return data


# --- Import --------------------------------------------------------------------------------


def import_codebook(data: bytes) -> list[CodeRef]:
    """The codes of a ``.qdc`` file, parents before children. Raises ``QdcError``."""
    root = parsed_and_valid(data, codebook_schema(), root_name="CodeBook", what="codebook")
    codes_element = root.find(tag("Codes"))
    codes: list[CodeRef] = []
    for element in codes_element.findall(tag("Code")):
        collect(element, None, codes, depth=1)
    return unflatten(codes)


def parsed_and_valid(data: bytes, schema, *, root_name: str, what: str):
    """Parse ``data`` safely (no entities, no external resources) and validate it."""
    if not data or not data.strip():
        raise QdcError(_("The file is empty: choose a REFI-QDA %(what)s file.") % {"what": what})
    if len(data) > MAX_BYTES:
        raise QdcError(_("The file is larger than %(n)d MB.") % {"n": MAX_BYTES // (1024 * 1024)})
    try:
        resource = xmlschema.XMLResource(io.BytesIO(data), defuse="always", allow="none")
    except XMLResourceForbidden:
        raise QdcError(_("The file declares XML entities, which are not allowed.")) from None
    except (ElementTree.ParseError, XMLResourceError, ValueError, SyntaxError):
        raise QdcError(
            _("The file is not XML: choose a REFI-QDA %(what)s file.") % {"what": what}
        ) from None
    root = resource.root
    if root.tag != tag(root_name):
        found = root.tag.split("}")[-1]
        namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
        if found == root_name and namespace != NAMESPACE:
            raise QdcError(
                _("The file uses the namespace “%(found)s”; a REFI-QDA %(what)s uses “%(ns)s”.")
                % {"found": namespace or "(none)", "what": what, "ns": NAMESPACE}
            )
        raise QdcError(
            _("The file is not a REFI-QDA %(what)s (its root is <%(root)s>).")
            % {"what": what, "root": found}
        )
    if depth_of(root) > MAX_DEPTH + 2:
        raise QdcError(_("Codes are nested more than %(n)d levels deep.") % {"n": MAX_DEPTH})
    error = next(iter(schema.iter_errors(resource)), None)
    if error is not None:
        where = (_(" at %(path)s") % {"path": error.path}) if error.path else ""
        raise QdcError(
            _("The file does not follow the REFI-QDA schema%(where)s: %(reason)s.")
            % {"where": where, "reason": error.reason}
        )
    return root


def depth_of(element, limit: int = MAX_DEPTH + 3) -> int:
    """How deep the tree goes (stops counting past ``limit``: enough to refuse it)."""
    deepest, stack = 0, [(element, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        stack.extend((child, depth + 1) for child in node)
    return deepest


def collect(element, parent_guid: str | None, codes: list[CodeRef], *, depth: int) -> None:
    if len(codes) >= MAX_CODES:
        raise QdcError(_("The codebook has more than %(n)d codes.") % {"n": MAX_CODES})
    description = element.find(tag("Description"))
    code = CodeRef(
        guid=guid_text(element.get("guid")),
        name=element.get("name", "").strip(),
        color=normalised_colour(element.get("color")),
        description=(description.text or "").strip() if description is not None else "",
        parent_guid=parent_guid,
        is_codable=element.get("isCodable", "true").strip().lower() in ("true", "1"),
    )
    if not code.name:
        raise QdcError(_("A code has no name."))
    codes.append(code)
    for child in element.findall(tag("Code")):
        collect(child, code.guid, codes, depth=depth + 1)


def normalised_colour(value: str | None) -> str | None:
    """#RGB becomes #RRGGBB; upper case."""
    if not value:
        return None
    value = value.strip()
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.upper()


def flat_guid(path: str) -> str:
    """A stable GUID for a parent made up from a flat name ("A::B" makes "A")."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alliance:qdc-parent:{path}")).upper()


def unflatten(codes: list[CodeRef]) -> list[CodeRef]:
    """Turn flat ``Parent::Child`` names of top-level codes into a hierarchy."""
    if not any(FLAT_SEPARATOR in c.name and c.parent_guid is None for c in codes):
        return codes
    result: list[CodeRef] = []
    made: dict[str, str] = {}  # path → guid of codes we have
    for code in codes:
        if code.parent_guid is None and FLAT_SEPARATOR not in code.name:
            made.setdefault(code.name, code.guid)
    for code in codes:
        if code.parent_guid is not None or FLAT_SEPARATOR not in code.name:
            result.append(code)
            continue
        parts = [p.strip() for p in code.name.split(FLAT_SEPARATOR) if p.strip()]
        parent_guid = None
        for depth in range(1, len(parts)):
            path = FLAT_SEPARATOR.join(parts[:depth])
            if path not in made:
                made[path] = flat_guid(path)
                result.append(
                    CodeRef(
                        guid=made[path],
                        name=parts[depth - 1],
                        parent_guid=parent_guid,
                        is_codable=False,
                    )
                )
            parent_guid = made[path]
        result.append(
            CodeRef(
                guid=code.guid,
                name=parts[-1],
                color=code.color,
                description=code.description,
                parent_guid=parent_guid,
                is_codable=code.is_codable,
            )
        )
    return result
