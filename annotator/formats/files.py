"""Reading what a format imports: a UTF-8 text file, or a JSON-lines file, with coded errors that name
the file and the line. Writing needs no help here: core/exporting hands every writer a temporary
folder and moves the result into place, so a failed export leaves the old file as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from annotator.errors import AnnotatorError, Errors


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The whole file as text (encoding "utf-8-sig" also takes a byte-order mark)."""
    path = Path(path)
    if not path.is_file():
        raise AnnotatorError(Errors.E010.format(path=path))
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise AnnotatorError(Errors.E011.format(path=f"{path}, line {line}", offset=e.start)) from None


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, value) for each line that is not blank; a byte-order mark may open the file."""
    path = Path(path)
    if not path.is_file():
        raise AnnotatorError(Errors.E010.format(path=path))
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise AnnotatorError(Errors.E011.format(path=f"{path}, line {lineno}", offset=e.start)) from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                raise AnnotatorError(Errors.E015.format(path=path, line=lineno, reason=e.msg)) from None
            yield lineno, value
