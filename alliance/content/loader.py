"""Reading the programme folders of ``programs/`` (format: programs/README.md).

``read_programmes`` parses and validates every folder into plain dataclasses without
touching the database; it raises one ``ContentError`` listing every problem found, each
naming the file, the line and the field. ``import_programmes`` then writes the new
versions; ``services.content_load`` runs it in one transaction.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.checkins.exercises import EXERCISE_KEYS
from alliance.content import markup
from alliance.content.models import (
    Module,
    Page,
    Programme,
    ProgrammeKind,
    SessionRelation,
    UnlockRule,
)

CARE_MODELS = {
    "guided_self_help": _("Guided self-help"),
    "blended": _("Blended"),
    "messaging": _("Messaging"),
}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TITLE_MAX_LENGTH = 200
SLUG_MAX_LENGTH = 80

PROGRAMME_FIELDS = (
    "key",
    "version",
    "title",
    "summary",
    "kind",
    "problems",
    "care_models",
    "modules",
)
MODULE_FIELDS = ("key", "file", "mandatory", "unlock", "unlock_days", "minutes", "session")
SESSION_FIELDS = {"prepares_for": SessionRelation.PREPARES, "follows_up": SessionRelation.FOLLOWS}
FRONT_MATTER_FIELDS = ("title", "summary", "guide")
GUIDE_FIELDS = ("online", "look_at", "ask", "homework", "call")
GUIDE_LIST_FIELDS = ("ask", "homework")

PAGE_HEADING = re.compile(r"^##(?!#)(?P<title>.*)$")
TOP_HEADING = re.compile(r"^#(?!#)")
FENCE = re.compile(r"^ {0,3}(?P<fence>```|~~~)")
DIRECTIVE_LINE = re.compile(r"^\s*\{\{(?P<inner>.*)\}\}\s*$")
DIRECTIVE_INNER = re.compile(r"^\s*(?P<name>exercise|homework)\s*:\s*(?P<value>.*?)\s*$")
DIRECTIVE_ANYWHERE = re.compile(r"\{\{.*?\}\}")

UNCHANGED = "unchanged"
LOADED = "loaded"


class ContentError(Exception):
    """The content cannot be loaded; ``errors`` lists every problem, one line each."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class PageData:
    position: int
    title: str
    body_html: str
    exercises: list[str]


@dataclass
class ModuleData:
    key: str
    position: int
    title: str
    summary: str
    mandatory: bool
    unlock_rule: str
    unlock_days: int | None
    minutes: int
    session_number: int | None
    session_relation: str
    guide: dict
    homework: list[str]
    pages: list[PageData]


@dataclass
class ProgrammeData:
    key: str
    version: int
    title: str
    summary: str
    kind: str
    problems: list[str]
    care_models: list[str]
    content_hash: str
    modules: list[ModuleData]
    # Where it came from, for messages: "programs/x/programme.yaml" and its lines.
    source: str
    key_line: int
    version_line: int

    @property
    def page_count(self) -> int:
        return sum(len(module.pages) for module in self.modules)


@dataclass
class ProgrammeReport:
    key: str
    version: int
    title: str
    status: str  # LOADED or UNCHANGED
    module_count: int
    page_count: int
    programme_id: int


@dataclass
class LoadReport:
    programmes: list[ProgrammeReport] = field(default_factory=list)


class Problems:
    """Every problem found so far, as "file:line: field: message"."""

    def __init__(self):
        self.messages: list[str] = []

    def add(self, file: str, line: int, where: str, message: str) -> None:
        prefix = f"{file}:{line}: "
        self.messages.append(f"{prefix}{where}: {message}" if where else f"{prefix}{message}")


def field_name(path: tuple) -> str:
    """("modules", 1, "unlock_days") -> "modules[2].unlock_days": counted from 1, as read."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part + 1}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def choices_text(choices) -> str:
    return ", ".join(choices)


# YAML ---------------------------------------------------------------------------------


class YamlDocument:
    """A parsed YAML text and the line of each of its fields."""

    def __init__(self, file: str, data: Any, lines: dict[tuple, int], first_line: int):
        self.file = file
        self.data = data
        self.lines = lines
        self.first_line = first_line

    def line(self, path: tuple) -> int:
        """The line of the field, or of the nearest enclosing one (a missing field)."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, self.first_line)


def parse_yaml(text: str, file: str, first_line: int, problems: Problems) -> YamlDocument | None:
    """``first_line`` is the file's line of the text's first line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = first_line + mark.line if mark else first_line
        problem = getattr(error, "problem", None) or str(error)
        problems.add(file, line, "", f"invalid YAML: {problem}")
        return None
    lines: dict[tuple, int] = {}
    if node is not None:
        record_lines(node, (), lines, first_line, file, problems)
    return YamlDocument(file, data, lines, first_line)


def record_lines(node, path: tuple, lines: dict, first_line: int, file: str, problems: Problems):
    lines.setdefault(path, first_line + node.start_mark.line)
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            sub = (*path, key_node.value)
            line = first_line + key_node.start_mark.line
            if key_node.value in seen:
                # PyYAML silently keeps the last one; an author meant one of them.
                problems.add(file, line, field_name(sub), "given twice")
            seen.add(key_node.value)
            lines[sub] = line
            record_lines(value_node, sub, lines, first_line, file, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            record_lines(item, (*path, index), lines, first_line, file, problems)


class Fields:
    """One YAML mapping being read: each problem names its file, line and field."""

    def __init__(self, doc: YamlDocument, path: tuple, data: dict, allowed, problems: Problems):
        self.doc = doc
        self.path = path
        self.data = data
        self.problems = problems
        for name in data:
            if name not in allowed:
                self.problem(str(name), f"unknown field (expected one of: {choices_text(allowed)})")

    def problem(self, name: str | tuple, message: str) -> None:
        """``name`` is a field of this mapping, or (field, index) for a list item."""
        sub = (*self.path, *(name if isinstance(name, tuple) else (name,)))
        self.problems.add(self.doc.file, self.doc.line(sub), field_name(sub), message)

    def given(self, name: str) -> bool:
        return self.data.get(name) is not None

    def value(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            self.problem(name, "required")
        return value

    def text(self, name: str, *, required: bool = True, max_length: int | None = None):
        value = self.value(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(name, "must be text")
            return None
        value = value.strip()
        if max_length and len(value) > max_length:
            self.problem(name, f"must be at most {max_length} characters")
            return None
        return value

    def slug(self, name: str) -> str | None:
        value = self.value(name, True)
        if value is None:
            return None
        if not isinstance(value, str) or not SLUG.match(value) or len(value) > SLUG_MAX_LENGTH:
            self.problem(
                name,
                f"must be lowercase letters, digits and hyphens, at most {SLUG_MAX_LENGTH} "
                f"characters (got {value!r})",
            )
            return None
        return value

    def number(self, name: str, *, minimum: int, required: bool = True) -> int | None:
        value = self.value(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.problem(name, f"must be a whole number of {minimum} or more (got {value!r})")
            return None
        return value

    def boolean(self, name: str, *, default: bool) -> bool | None:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(name, f"must be true or false (got {value!r})")
            return None
        return value

    def choice(self, name: str, choices) -> str | None:
        value = self.value(name, True)
        if value is None:
            return None
        if value not in choices:
            self.problem(name, f"must be one of: {choices_text(choices)} (got {value!r})")
            return None
        return value

    def text_list(self, name: str, *, required: bool = True, choices=None) -> list[str] | None:
        value = self.value(name, required)
        if value is None:
            return [] if not required else None
        if not isinstance(value, list):
            self.problem(name, "must be a list, e.g. [a, b]")
            return None
        if required and not value:
            self.problem(name, "must list at least one")
            return None
        ok = True
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.problem((name, index), "must be text")
                ok = False
            elif choices is not None and item not in choices:
                message = f"must be one of: {choices_text(choices)} (got {item!r})"
                self.problem((name, index), message)
                ok = False
        return [item.strip() for item in value] if ok else None

    def mapping(self, name: str, allowed, hint: str) -> "Fields | None":
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(name, f"must be a mapping: {hint}")
            return None
        return Fields(self.doc, (*self.path, name), value, allowed, self.problems)

    def problem_count(self) -> int:
        return len(self.problems.messages)


# Programmes and modules -----------------------------------------------------------------


def read_programmes(directory: Path) -> list[ProgrammeData]:
    """Every programme folder (a sub-folder with a programme.yaml) in ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ContentError([f"{directory}: no such folder"])
    problems = Problems()
    programmes: list[ProgrammeData] = []
    sources: dict[tuple[str, int], str] = {}
    folders = sorted(
        path for path in directory.iterdir() if path.is_dir() and not path.name.startswith(".")
    )
    for folder in folders:
        if not (folder / "programme.yaml").is_file():
            continue
        # Messages name files from the folder's name: "programs/x/programme.yaml".
        folder_name = f"{directory.resolve().name}/{folder.name}"
        programme = read_programme(folder, folder_name, problems)
        if programme is None:
            continue
        other = sources.setdefault((programme.key, programme.version), programme.source)
        if other != programme.source:
            problems.add(
                programme.source,
                programme.key_line,
                "key",
                f"programme {programme.key} version {programme.version} is also in {other}",
            )
            continue
        programmes.append(programme)
    if problems.messages:
        raise ContentError(problems.messages)
    return programmes


def read_text(path: Path, file: str, problems: Problems) -> str | None:
    try:
        return path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        problems.add(file, 1, "", "not UTF-8 text")
        return None


def read_programme(folder: Path, folder_name: str, problems: Problems) -> ProgrammeData | None:
    file = f"{folder_name}/programme.yaml"
    before = len(problems.messages)
    text = read_text(folder / "programme.yaml", file, problems)
    doc = parse_yaml(text, file, 1, problems) if text is not None else None
    if doc is None:
        return None
    if not isinstance(doc.data, dict):
        problems.add(
            file, 1, "", "must be a mapping of fields (key: value), see programs/README.md"
        )
        return None
    fields = Fields(doc, (), doc.data, PROGRAMME_FIELDS, problems)
    key = fields.slug("key")
    version = fields.number("version", minimum=1)
    title = fields.text("title", max_length=TITLE_MAX_LENGTH)
    summary = fields.text("summary")
    kind = fields.choice("kind", ProgrammeKind.values)
    addresses = fields.text_list("problems")
    care_models = fields.text_list("care_models", choices=tuple(CARE_MODELS))
    modules = read_modules(fields, folder, folder_name)
    if len(problems.messages) > before:
        return None
    return ProgrammeData(
        key=key,
        version=version,
        title=title,
        summary=summary,
        kind=kind,
        problems=addresses,
        care_models=care_models,
        content_hash=folder_hash(folder),
        modules=modules,
        source=file,
        key_line=doc.line(("key",)),
        version_line=doc.line(("version",)),
    )


def read_modules(fields: Fields, folder: Path, folder_name: str) -> list[ModuleData]:
    entries = fields.value("modules", True)
    if entries is None:
        return []
    if not isinstance(entries, list) or not entries:
        fields.problem("modules", "must be a list of modules, at least one")
        return []
    modules = []
    positions_by_key: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            fields.problem(("modules", index), "must be a mapping of fields (key: value)")
            continue
        entry_fields = Fields(fields.doc, ("modules", index), entry, MODULE_FIELDS, fields.problems)
        module = read_module(entry_fields, index + 1, folder, folder_name)
        key = entry.get("key")
        if isinstance(key, str) and key in positions_by_key:
            entry_fields.problem(
                "key", f"{key!r} is already the key of modules[{positions_by_key[key]}]"
            )
        elif isinstance(key, str):
            positions_by_key[key] = index + 1
        if module is not None:
            modules.append(module)
    return modules


def read_module(fields: Fields, position: int, folder: Path, folder_name: str) -> ModuleData | None:
    before = fields.problem_count()
    key = fields.slug("key")
    mandatory = fields.boolean("mandatory", default=True)
    unlock = fields.choice("unlock", UnlockRule.values)
    unlock_days = None
    if unlock == UnlockRule.DAYS_AFTER_START:
        if not fields.given("unlock_days"):
            fields.problem("unlock_days", "required when unlock is days_after_start")
        else:
            unlock_days = fields.number("unlock_days", minimum=0)
    elif unlock is not None and fields.given("unlock_days"):
        fields.problem("unlock_days", "only allowed when unlock is days_after_start")
    minutes = fields.number("minutes", minimum=1)
    session_number, session_relation = read_session(fields)
    module_file = read_module_path(fields, folder, folder_name)
    content = None
    if module_file is not None:
        path, file = module_file
        content = read_module_file(path, file, fields.problems)
    if content is None or fields.problem_count() > before:
        return None
    return ModuleData(
        key=key,
        position=position,
        title=content.title,
        summary=content.summary,
        mandatory=mandatory,
        unlock_rule=unlock,
        unlock_days=unlock_days,
        minutes=minutes,
        session_number=session_number,
        session_relation=session_relation,
        guide=content.guide,
        homework=content.homework,
        pages=content.pages,
    )


def read_session(fields: Fields) -> tuple[int | None, str]:
    hint = "{prepares_for: N} or {follows_up: N}"
    session = fields.mapping("session", SESSION_FIELDS, hint)
    if session is None:
        return None, SessionRelation.NONE
    given = [name for name in SESSION_FIELDS if name in session.data]
    if len(given) != 1:
        fields.problem("session", f"must be {hint}")
        return None, SessionRelation.NONE
    number = session.number(given[0], minimum=1)
    return number, SESSION_FIELDS[given[0]].value


def read_module_path(fields: Fields, folder: Path, folder_name: str) -> tuple[Path, str] | None:
    name = fields.text("file")
    if name is None:
        return None
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        fields.problem("file", f"must be a file in {folder_name} (got {name!r})")
        return None
    if not path.is_file():
        fields.problem("file", f"no such file in {folder_name}: {name}")
        return None
    return path, f"{folder_name}/{path.relative_to(folder.resolve()).as_posix()}"


def folder_hash(folder: Path) -> str:
    """SHA-256 over the folder's files, names and bytes, in name order (hidden files aside)."""
    digest = hashlib.sha256()
    files = sorted(
        (path.relative_to(folder).as_posix(), path)
        for path in folder.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(folder).parts)
    )
    for name, path in files:
        data = path.read_bytes()
        encoded = name.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


# Module files ---------------------------------------------------------------------------


@dataclass
class ModuleContent:
    title: str
    summary: str
    guide: dict
    homework: list[str]
    pages: list[PageData]


def read_module_file(path: Path, file: str, problems: Problems) -> ModuleContent | None:
    before = len(problems.messages)
    text = read_text(path, file, problems)
    if text is None:
        return None
    handler = frontmatter.YAMLHandler()
    opening = handler.FM_BOUNDARY.match(text) if handler.detect(text) else None
    if opening is None:
        problems.add(
            file,
            1,
            "front matter",
            "missing: a module file starts with a --- line, its title, and a --- line",
        )
        return None
    try:
        front, body = handler.split(text)
    except ValueError:
        problems.add(file, 1, "front matter", "not closed: end it with a --- line")
        return None
    doc = parse_yaml(front, file, line_of(text, opening.end()), problems)
    meta = None
    if doc is not None:
        data = doc.data if doc.data is not None else {}
        if isinstance(data, dict):
            meta = Fields(doc, (), data, FRONT_MATTER_FIELDS, problems)
        else:
            problems.add(file, doc.first_line, "front matter", "must be a mapping of fields")
    title = summary = guide = None
    if meta is not None:
        title = meta.text("title", max_length=TITLE_MAX_LENGTH)
        summary = meta.text("summary", required=False) or ""
        guide = read_guide(meta)
    pages, homework = read_pages(body, line_of(text, len(text) - len(body)), file, problems)
    if len(problems.messages) > before or meta is None:
        return None
    return ModuleContent(title=title, summary=summary, guide=guide, homework=homework, pages=pages)


def read_guide(meta: Fields) -> dict:
    """The protocol guide, always with every key, so readers need no defaults."""
    guide = {"online": "", "look_at": "", "ask": [], "homework": [], "call": ""}
    fields = meta.mapping("guide", GUIDE_FIELDS, choices_text(GUIDE_FIELDS))
    if fields is None:
        return guide
    for name in GUIDE_FIELDS:
        if name in GUIDE_LIST_FIELDS:
            guide[name] = fields.text_list(name, required=False) or []
        else:
            guide[name] = fields.text(name, required=False) or ""
    return guide


@dataclass
class PageSource:
    title: str
    line: int  # the file's line of the "## " heading
    lines: list[str] = field(default_factory=list)  # the Markdown, heading excluded
    markdown: list[str] = field(default_factory=list)  # the same, directives replaced
    directives: list[tuple[str, str]] = field(default_factory=list)


def read_pages(body: str, first_line: int, file: str, problems: Problems):
    """The pages of a module file's body, and the homework they suggest.

    ``first_line`` is the file's line of the body's first line.
    """
    pages: list[PageSource] = []
    fence = None
    text_before_pages = None
    # Placeholders for the loader's own markup, swapped in after sanitising.
    token = f"ALLIANCE{uuid.uuid4().hex}"
    for index, line in enumerate(body.split("\n")):
        number = first_line + index
        opening = FENCE.match(line)
        if fence is None and (heading := PAGE_HEADING.match(line)):
            title = re.sub(r"(^|\s)#+\s*$", "", heading["title"]).strip()
            pages.append(PageSource(title=title, line=number))
            continue
        if fence is None and TOP_HEADING.match(line) and pages:
            problems.add(
                file,
                number,
                field_name(("pages", len(pages) - 1)),
                "'# ' headings are not allowed: a '## ' heading starts a page, "
                "use '### ' inside a page",
            )
        if not pages:
            if line.strip() and text_before_pages is None:
                text_before_pages = number
            fence = fence_after(line, fence, opening)
            continue
        page = pages[-1]
        page.lines.append(line)
        replacement = line
        if fence is None:
            replacement = read_directive(line, number, page, len(pages), token, file, problems)
        page.markdown.append(replacement)
        fence = fence_after(line, fence, opening)
    if not pages:
        line = text_before_pages or first_line
        problems.add(file, line, "body", "no pages: each '## ' heading starts a page")
        return [], []
    if text_before_pages is not None:
        problems.add(
            file,
            text_before_pages,
            "body",
            "text before the first '## ' heading: a module starts with a page",
        )
    return render_pages(pages, token, file, problems)


def fence_after(line: str, fence: str | None, opening) -> str | None:
    """Whether a fenced code block is open after this line."""
    if opening is None:
        return fence
    if fence is None:
        return opening["fence"]
    return None if opening["fence"] == fence else fence


def read_directive(line, number, page: PageSource, page_number, token, file, problems) -> str:
    """The Markdown for one line: a directive becomes a placeholder paragraph."""
    where = field_name(("pages", page_number - 1))
    whole = DIRECTIVE_LINE.match(line)
    if whole is None:
        if found := DIRECTIVE_ANYWHERE.search(line):
            problems.add(file, number, where, f"{found[0]} must be on a line of its own")
        return line
    directive = DIRECTIVE_INNER.match(whole["inner"])
    if directive is None:
        problems.add(
            file,
            number,
            where,
            f"unknown directive {line.strip()} "
            "(use {{ exercise: KEY }} or {{ homework: TEXT }})",
        )
        return line
    name, value = directive["name"], directive["value"]
    if name == "exercise" and value not in EXERCISE_KEYS:
        problems.add(
            file,
            number,
            f"{where}.exercise",
            f"unknown exercise {value!r} (one of: {choices_text(EXERCISE_KEYS)})",
        )
    elif name == "homework" and not value:
        problems.add(file, number, f"{where}.homework", "text required")
    page.directives.append((name, value))
    return f"\n{token}Z{len(page.directives)}Z\n"


def render_pages(pages: list[PageSource], token: str, file: str, problems: Problems):
    rendered: list[PageData] = []
    homework: list[str] = []
    for position, page in enumerate(pages, start=1):
        where = field_name(("pages", position - 1))
        if not page.title:
            problems.add(file, page.line, f"{where}.title", "required: the text after '## '")
        elif len(page.title) > TITLE_MAX_LENGTH:
            problems.add(
                file, page.line, f"{where}.title", f"must be at most {TITLE_MAX_LENGTH} characters"
            )
        if not any(line.strip() for line in page.lines):
            problems.add(file, page.line, where, "empty page: write something under its heading")
            continue
        raw_html = markup.markdown_to_html("\n".join(page.markdown))
        for unsafe in markup.find_unsafe_html(raw_html):
            index = unsafe.line_in(page.lines)
            line = page.line + 1 + index if index is not None else page.line
            problems.add(file, line, where, f"unsafe HTML: {unsafe.what} is not allowed")
        body_html = markup.sanitise(raw_html)
        for number, (name, value) in enumerate(page.directives, start=1):
            if name == "exercise":
                html = markup.exercise_slot_html(value)
            else:
                html = markup.homework_note_html(value)
                homework.append(value)
            placeholder = f"{token}Z{number}Z"
            body_html = body_html.replace(f"<p>{placeholder}</p>", html)
            body_html = body_html.replace(placeholder, html)
        exercises = [value for name, value in page.directives if name == "exercise"]
        rendered.append(
            PageData(position=position, title=page.title, body_html=body_html, exercises=exercises)
        )
    return rendered, homework


# Import --------------------------------------------------------------------------------


def import_programmes(programmes: list[ProgrammeData]) -> LoadReport:
    """Write the versions not loaded yet. Run inside one transaction.

    A version already loaded with the same content is left as it is ("unchanged"); with
    other content it is refused: a loaded version never changes.
    """
    wanted = Q(pk__in=[])
    for programme in programmes:
        wanted |= Q(key=programme.key, version=programme.version)
    loaded = {(p.key, p.version): p for p in Programme.objects.filter(wanted)}
    errors = []
    for programme in programmes:
        existing = loaded.get((programme.key, programme.version))
        if existing is not None and existing.content_hash != programme.content_hash:
            errors.append(
                f"{programme.source}:{programme.version_line}: version: {programme.key} "
                f"version {programme.version} is already loaded with different content: "
                "raise version"
            )
    if errors:
        raise ContentError(errors)
    report = LoadReport()
    for programme in programmes:
        existing = loaded.get((programme.key, programme.version))
        status = UNCHANGED if existing is not None else LOADED
        row = existing or create_programme(programme)
        report.programmes.append(
            ProgrammeReport(
                key=programme.key,
                version=programme.version,
                title=programme.title,
                status=status,
                module_count=len(programme.modules),
                page_count=programme.page_count,
                programme_id=row.pk,
            )
        )
    return report


def create_programme(programme: ProgrammeData) -> Programme:
    row = Programme.objects.create(
        key=programme.key,
        version=programme.version,
        title=programme.title,
        summary=programme.summary,
        kind=programme.kind,
        problems=programme.problems,
        care_models=programme.care_models,
        content_hash=programme.content_hash,
    )
    modules = Module.objects.bulk_create(
        Module(
            programme=row,
            key=module.key,
            position=module.position,
            title=module.title,
            summary=module.summary,
            mandatory=module.mandatory,
            unlock_rule=module.unlock_rule,
            unlock_days=module.unlock_days,
            minutes=module.minutes,
            session_number=module.session_number,
            session_relation=module.session_relation,
            guide=module.guide,
            homework=module.homework,
        )
        for module in programme.modules
    )
    Page.objects.bulk_create(
        Page(
            module=module_row,
            position=page.position,
            title=page.title,
            body_html=page.body_html,
            exercises=page.exercises,
        )
        for module_row, module in zip(modules, programme.modules, strict=True)
        for page in module.pages
    )
    return row
