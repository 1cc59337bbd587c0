"""Markdown to safe HTML for content pages, and the markup the loader adds to it.

A page's Markdown is rendered to HTML, checked for unsafe HTML (a file that has any is
refused, not silently cleaned), then sanitised to a small allow-list. The exercise slots
and homework notes are added after sanitising, so only the loader can write them.
"""

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from alliance.checkins.exercises import EXERCISE_TITLES

# What an author's Markdown (and any HTML in it) may produce. Everything else is removed.
ALLOWED_TAGS = {
    "p", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "br", "hr", "code", "pre",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    # Column alignment of Markdown tables (as an attribute: the CSP forbids inline styles).
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

# Refused outright: the author meant something that must never reach a patient's page.
UNSAFE_TAGS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
    "base", "link", "meta",
}  # fmt: skip
UNSAFE_URL_SCHEMES = ("javascript:", "vbscript:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}

EXERCISE_SLOT = '<p class="exercise-slot" data-exercise="{key}"></p>'
HOMEWORK_NOTE = '<p class="homework-note">{text}</p>'
LOADER_MARKUP = re.compile(
    r'<p class="exercise-slot" data-exercise="(?P<key>[a-z_]+)"></p>'
    r'|<p class="homework-note">(?P<homework>.*?)</p>',
    re.DOTALL,
)


def markdown_to_html(text: str) -> str:
    """The author's Markdown as HTML, not yet sanitised."""
    # Not "extra": attr_list, footnotes, abbreviations and definition lists only make
    # markup that the allow-list removes again.
    return markdown.markdown(
        text,
        extensions=["tables", "fenced_code", "sane_lists"],
        extension_configs={"tables": {"use_align_attribute": True}},
    )


def sanitise(page_html: str) -> str:
    return nh3.clean(
        page_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def exercise_slot_html(key: str) -> str:
    return EXERCISE_SLOT.format(key=escape(key))


def homework_note_html(text: str) -> str:
    return HOMEWORK_NOTE.format(text=escape(text))


@dataclass(frozen=True)
class Unsafe:
    """One kind of unsafe HTML, and how to find the source line that made it."""

    what: str
    source_pattern: re.Pattern

    def line_in(self, lines: list[str]) -> int | None:
        """The index of the first source line that matches, entities decoded."""
        for index, line in enumerate(lines):
            if self.source_pattern.search(html.unescape(line)):
                return index
        return None


class UnsafeHtmlFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[Unsafe] = []

    def handle_starttag(self, tag, attrs):
        if tag in UNSAFE_TAGS:
            article = "an" if tag[0] in "aeiou" else "a"
            self.add(f"{article} <{tag}> element", rf"<\s*{tag}\b")
        for name, value in attrs:
            if name.startswith("on"):
                self.add(f"the event handler {name}", rf"\b{re.escape(name)}\s*=")
            elif name == "style":
                self.add("a style attribute", r"\bstyle\s*=")
            elif name in URL_ATTRIBUTES and value:
                # Browsers ignore whitespace and control characters inside a scheme.
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                for scheme in UNSAFE_URL_SCHEMES:
                    if squeezed.startswith(scheme):
                        pattern = r"\s*".join(re.escape(c) for c in scheme)
                        self.add(f"a {scheme} link", pattern)

    handle_startendtag = handle_starttag

    def add(self, what: str, pattern: str) -> None:
        if all(u.what != what for u in self.found):
            self.found.append(Unsafe(what, re.compile(pattern, re.IGNORECASE)))


def find_unsafe_html(page_html: str) -> list[Unsafe]:
    """What in this (unsanitised) HTML must make the loader refuse the file."""
    finder = UnsafeHtmlFinder()
    finder.feed(page_html)
    finder.close()
    return finder.found


@dataclass(frozen=True)
class PagePart:
    """A piece of a page's HTML: plain content, an exercise slot or a homework note."""

    kind: str  # "html", "exercise" or "homework"
    html: SafeString = mark_safe("")  # noqa: S308 - empty
    exercise_key: str = ""

    @property
    def exercise_title(self) -> str:
        return str(EXERCISE_TITLES.get(self.exercise_key, self.exercise_key))


def page_parts(body_html: str) -> list[PagePart]:
    """Split a page's stored HTML around the markup the loader added.

    ``body_html`` is the loader's sanitised output, so its pieces are safe to show.
    """
    parts: list[PagePart] = []
    start = 0
    for match in LOADER_MARKUP.finditer(body_html):
        if body_html[start : match.start()].strip():
            parts.append(PagePart("html", mark_safe(body_html[start : match.start()])))  # noqa: S308
        if match["key"]:
            parts.append(PagePart("exercise", exercise_key=match["key"]))
        else:
            parts.append(PagePart("homework", mark_safe(match["homework"])))  # noqa: S308
        start = match.end()
    if body_html[start:].strip():
        parts.append(PagePart("html", mark_safe(body_html[start:])))  # noqa: S308
    return parts
