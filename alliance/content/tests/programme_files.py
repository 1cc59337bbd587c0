"""A tiny programme folder written into a test's tmp_path, and edits to make it wrong."""

from pathlib import Path

PROGRAMME_YAML = """\
key: test-programme
version: 1
title: Test programme
summary: A programme for tests.
kind: programme
problems: [depression]
care_models: [blended]
modules:
  - key: first
    file: 01-first.md
    mandatory: true
    unlock: after_previous
    minutes: 20
    session: {prepares_for: 1}
  - key: second
    file: 02-second.md
    mandatory: false
    unlock: days_after_start
    unlock_days: 7
    minutes: 15
"""

MODULE_FIRST = """\
---
title: First module
summary: The first one.
guide:
  online: Reads about the cycle.
  look_at: The journal entry.
  ask:
    - How did it go?
  homework:
    - Keep a diary.
---

## Welcome

Hello **there**.

{{ exercise: thought_record }}

## Your first step

{{ homework: Write down three things you did. }}
"""

MODULE_SECOND = """\
---
title: Second module
---

## Only page

A [link](https://example.org "Example").
"""

FILES = {
    "programme.yaml": PROGRAMME_YAML,
    "01-first.md": MODULE_FIRST,
    "02-second.md": MODULE_SECOND,
}


def write_programme(programs: Path, folder: str = "test-programme", *edits, files=None) -> Path:
    """Write a programme folder into ``programs`` and return ``programs``.

    Each edit is ``(file name, old text, new text)``; ``files`` replaces whole files
    (a value of None leaves the file out).
    """
    contents = {**FILES, **(files or {})}
    for name, old, new in edits:
        assert old in contents[name], f"{old!r} is not in {name}"
        contents[name] = contents[name].replace(old, new, 1)
    (programs / folder).mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        if text is not None:
            (programs / folder / name).write_text(text, encoding="utf-8")
    return programs
