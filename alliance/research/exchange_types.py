"""Plain data exchanged between the research models and the REFI-QDA / themes modules.

A `ProjectSnapshot` is a project as an exchange format sees it: users (coders), a code
hierarchy, sources (pseudonymised texts) and coded selections with exact character
positions. `services.project_snapshot` builds one from a project and
`services.project_import_snapshot` writes one into a project; `qdpx.py` turns it into
XML and back. Nothing here touches the database.

Conventions:
- every `guid` is a UUID string (8-4-4-4-12 hex digits, upper case in exports);
- `start`/`end` are Python codepoint offsets into `SourceRef.text`, end exclusive;
- `parent_guid` is None for a top-level code; the hierarchy is a forest;
- `color` is "#RRGGBB" or None;
- a selection with several `code_guids` is one passage coded with several codes by one coder.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UserRef:
    guid: str
    name: str


@dataclass(frozen=True)
class CodeRef:
    guid: str
    name: str
    color: str | None = None
    description: str = ""
    parent_guid: str | None = None
    is_codable: bool = True


@dataclass(frozen=True)
class SourceRef:
    guid: str
    name: str
    text: str


@dataclass(frozen=True)
class SelectionRef:
    guid: str
    source_guid: str
    start: int
    end: int
    coder_guid: str | None
    code_guids: tuple[str, ...] | list[str] = ()


@dataclass
class ProjectSnapshot:
    name: str
    users: list[UserRef] = field(default_factory=list)
    codes: list[CodeRef] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    selections: list[SelectionRef] = field(default_factory=list)
    description: str = ""
