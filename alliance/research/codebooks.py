"""Codebooks as data: the starter codebooks in ``codebooks/*.yaml``, and how a code's four
texts (definition, when to use, when not to use, example) travel in the one REFI-QDA
``Description``. Pure: no database.
"""

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

STARTER_DIR = Path(__file__).resolve().parent / "codebooks"
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class StarterCode:
    name: str
    colour: str
    codable: bool
    definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    example: str = ""
    children: tuple["StarterCode", ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StarterCodebook:
    key: str
    title: str
    description: str
    codes: tuple[StarterCode, ...]

    def walk(self):
        """(code, parent) pairs, parents first."""

        def visit(code, parent):
            yield code, parent
            for child in code.children:
                yield from visit(child, code)

        for code in self.codes:
            yield from visit(code, None)


class StarterError(ValueError):
    pass


def parse_code(data: dict, where: str) -> StarterCode:
    if not isinstance(data, dict) or not str(data.get("name", "")).strip():
        raise StarterError(f"{where}: every code needs a name")
    colour = str(data.get("colour", "#1F5F63"))
    if not COLOUR.match(colour):
        raise StarterError(f"{where}: colour {colour!r} is not #RRGGBB")
    codable = bool(data.get("codable", True))
    if codable and not str(data.get("definition", "")).strip():
        raise StarterError(f"{where}: a codable code needs a definition")
    children = tuple(
        parse_code(child, f"{where}.children[{i}]")
        for i, child in enumerate(data.get("children") or [])
    )
    return StarterCode(
        name=str(data["name"]).strip(),
        colour=colour.upper(),
        codable=codable,
        definition=str(data.get("definition", "")).strip(),
        when_to_use=str(data.get("when_to_use", "")).strip(),
        when_not_to_use=str(data.get("when_not_to_use", "")).strip(),
        example=str(data.get("example", "")).strip(),
        children=children,
    )


def parse_starter(text: str, source: str) -> StarterCodebook:
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise StarterError(f"{source}: not a mapping")
    codes = tuple(parse_code(c, f"{source}: codes[{i}]") for i, c in enumerate(data["codes"]))
    return StarterCodebook(
        key=str(data["key"]),
        title=str(data["title"]),
        description=str(data.get("description", "")).strip(),
        codes=codes,
    )


@cache
def starter_codebooks() -> dict[str, StarterCodebook]:
    """Every starter codebook, by key."""
    books = {}
    for path in sorted(STARTER_DIR.glob("*.yaml")):
        book = parse_starter(path.read_text(encoding="utf-8"), path.name)
        books[book.key] = book
    return books


# --- A code's texts in one REFI-QDA Description --------------------------------------------

SECTIONS = (
    ("when_to_use", "When to use:"),
    ("when_not_to_use", "When not to use:"),
    ("example", "Example:"),
)


def description_of(
    *, definition: str, when_to_use: str = "", when_not_to_use: str = "", example: str = ""
) -> str:
    """The four texts as one Description other QDA tools show as it is."""
    parts = [definition.strip()] if definition.strip() else []
    values = {"when_to_use": when_to_use, "when_not_to_use": when_not_to_use, "example": example}
    for key, label in SECTIONS:
        if values[key].strip():
            parts.append(f"{label} {values[key].strip()}")
    return "\n\n".join(parts)


def texts_from_description(description: str) -> dict[str, str]:
    """The reverse of ``description_of``; a Description written by another tool becomes
    the definition."""
    texts = {"definition": "", "when_to_use": "", "when_not_to_use": "", "example": ""}
    labels = "|".join(re.escape(label) for _key, label in SECTIONS)
    pieces = re.split(rf"(?:^|\n\n)({labels}) ", description.strip())
    texts["definition"] = pieces[0].strip()
    by_label = {label: key for key, label in SECTIONS}
    for label, value in zip(pieces[1::2], pieces[2::2], strict=True):
        texts[by_label[label]] = value.strip()
    return texts
