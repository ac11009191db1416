"""The project's annotation guidelines: one Markdown text kept in the project (`project_settings`),
set by reviewers, read by everyone, and found by label: a heading named like a label is that label's
section ("## ORG" or "## ORG — organisations")."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.core.db.models import Annotator, ProjectSetting, utcnow
from annotator.errors import AnnotatorError, Errors

KEY = "guidelines"
MAX_BYTES = 1_000_000  # a document to read, not a library: past this it belongs elsewhere
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")


def read_file(path: str | Path) -> str:
    """The text of a guidelines file (E510 unreadable or not UTF-8, E511 too big)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise AnnotatorError(Errors.E511.format(path=path, size=size, limit=MAX_BYTES))
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as e:
        raise AnnotatorError(Errors.E510.format(path=path, reason=f"not UTF-8 text: {e.reason} at byte {e.start}"))
    except OSError as e:
        raise AnnotatorError(Errors.E510.format(path=path, reason=e.strerror or type(e).__name__)) from None
    if "\x00" in text:  # valid UTF-8, but a binary file (and PostgreSQL refuses NUL in text)
        raise AnnotatorError(Errors.E510.format(path=path, reason="it holds NUL bytes: a binary file, not text"))
    return text


def guidelines(s: Session) -> str:
    """The guidelines ("" when the project has none)."""
    return s.scalar(select(ProjectSetting.value).where(ProjectSetting.key == KEY)) or ""


def set_guidelines(s: Session, annotator_id: int, text: str) -> None:
    """Replace the guidelines; only reviewers may (E512)."""
    who = s.get(Annotator, annotator_id)
    if who is None or who.role != "reviewer":
        raise AnnotatorError(Errors.E512.format(name=who.name if who else annotator_id))
    row = s.get(ProjectSetting, KEY)
    if row is None:
        s.add(ProjectSetting(key=KEY, value=text, updated_by=annotator_id, updated_at=utcnow()))
    else:
        row.value, row.updated_by, row.updated_at = text, annotator_id, utcnow()


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of each ATX heading, outside fenced code."""
    found, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            found.append((len(m.group(1)), m.group(2)))
    return found


def section_for(markdown: str, label: str) -> str | None:
    """The heading of `label`'s section: one whose text is the label (either case), or starts with it
    followed by something not part of a name (" — ...", ": ..."); None when there is none."""
    want = label.casefold()
    for _, text in headings(markdown):
        t = text.casefold()
        if t == want or (t.startswith(want) and not (t[len(want)].isalnum() or t[len(want)] == "_")):
            return text
    return None
