"""Knowledge-base files: JSONL and CSV rows ↔ `KbEntry`, checked row by row with line numbers.

JSONL, one entity per line (only "name" is required):

    {"id": "Q884", "name": "South Korea", "type": "GPE", "description": "country in East Asia",
     "aliases": ["South Korea", "S.Korea", "Korea"], "alias_counts": [3, 0, 1]}

CSV, with a header; aliases (and their counts, optional) are "|"-separated, "\\|" is a literal bar:

    id,name,type,description,aliases,alias_counts
    Q884,South Korea,GPE,country in East Asia,South Korea|S.Korea|Korea,3|0|1

`alias_counts` carries the learned priors, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterable, Iterator

from annotator.core.records import KbEntry
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_unicode, lines, loads

COLUMNS = ("id", "name", "type", "description", "aliases", "alias_counts")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def kind_of(path: Path) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise AnnotatorError(Errors.E201.format(path=path))
    return kind


def read(path: Path) -> list[tuple[int, KbEntry]]:
    """(line number, entry) for every row; the first bad row raises a coded error."""
    if not path.exists():
        raise AnnotatorError(Errors.E200.format(path=path))
    rows = _read_jsonl(path) if kind_of(path) == "jsonl" else _read_csv(path)
    first_line: dict[str, int] = {}
    for line, entry in rows:
        if entry.kb_id is not None:
            if entry.kb_id in first_line:
                raise AnnotatorError(Errors.E205.format(path=path, line=line, kb_id=entry.kb_id,
                                                        first=first_line[entry.kb_id]))
            first_line[entry.kb_id] = line
    return rows


def _entry(path: Path, line: int, raw: dict) -> KbEntry:
    def bad(reason: str) -> AnnotatorError:
        return AnnotatorError(Errors.E203.format(path=path, line=line, reason=reason))

    for key in ("id", "name", "type", "description"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise bad(f'"{key}" must be a string, not {type(raw[key]).__name__}')
    name = (raw.get("name") or "").strip()
    if not name:
        raise AnnotatorError(Errors.E204.format(path=path, line=line))
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise bad('"aliases" must be a list of non-empty strings')
    counts = raw.get("alias_counts")
    if counts is None:
        counts = [0] * len(aliases)
    if (not isinstance(counts, list) or len(counts) != len(aliases)
            or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 2**31 for c in counts)):
        raise bad(f'"alias_counts" must be {len(aliases)} non-negative integers, one per alias')
    for key in ("id", "name", "type", "description"):
        _check_chars(path, line, key, raw.get(key) or "")
    for alias in aliases:
        _check_chars(path, line, "alias", alias)
        check_unicode(alias, path, f"line {line}")
    if any(len(raw.get(key) or "") > 255 for key in ("id", "name")) or len(raw.get("type") or "") > 64:
        raise bad("an id or name is longer than 255 characters, or a type longer than 64")
    kb_id = (raw.get("id") or "").strip() or None
    return KbEntry(name=name, kb_id=kb_id, type=(raw.get("type") or "").strip(),
                   description=(raw.get("description") or "").strip(),
                   aliases=[a.strip() for a in aliases], counts=list(counts))


def _check_chars(path: Path, line: int, what: str, value: str, allowed: str = "\t\n\r") -> None:
    """E219 for a C0 control character other than tab and line ends in a KB value (NUL, which no
    PostgreSQL text can hold, above all); E112 for a lone surrogate."""
    for ch in value:
        if ord(ch) < 32 and ch not in allowed:
            raise AnnotatorError(Errors.E219.format(path=path, line=line, what=what, value=value[:80],
                                                    code=ord(ch)))
    check_unicode(value, path, f"line {line}")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    return lines(path, lambda lineno, offset: AnnotatorError(Errors.E207.format(path=path, line=lineno,
                                                                                offset=offset)))


def _read_jsonl(path: Path) -> list[tuple[int, KbEntry]]:
    rows = []
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        raw = loads(line, path, f"line {lineno}",
                    lambda n, reason: AnnotatorError(Errors.E202.format(path=path, line=n, reason=reason)))
        if not isinstance(raw, dict):
            raise AnnotatorError(Errors.E203.format(path=path, line=lineno, reason="the line is not a JSON object"))
        rows.append((lineno, _entry(path, lineno, raw)))
    return rows


def split_bars(cell: str) -> list[str]:
    """'a|b\\|c' → ['a', 'b|c']: "|" separates, a backslash escapes "|" and itself."""
    if not cell:
        return []
    parts, buf, i = [], [], 0
    while i < len(cell):
        ch = cell[i]
        if ch == "\\" and i + 1 < len(cell) and cell[i + 1] in "|\\":
            buf.append(cell[i + 1])
            i += 2
            continue
        if ch == "|":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def join_bars(items: Iterable[str]) -> str:
    return "|".join(s.replace("\\", "\\\\").replace("|", "\\|") for s in items)


def _read_csv(path: Path) -> list[tuple[int, KbEntry]]:
    text = "".join(line for _, line in _lines(path))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise AnnotatorError(Errors.E206.format(path=path, column="name", found="(empty file)")) from None
    except csv.Error as e:
        raise AnnotatorError(Errors.E203.format(path=path, line=1, reason=f"bad CSV ({e})")) from None
    if "name" not in header:
        raise AnnotatorError(Errors.E206.format(path=path, column="name", found=", ".join(header)))
    rows = []
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise AnnotatorError(Errors.E203.format(path=path, line=line, reason=f"bad CSV ({e})")) from None
        if any(c.strip() for c in cells):
            if len(cells) != len(header):
                raise AnnotatorError(Errors.E203.format(
                    path=path, line=line, reason=f"{len(cells)} cells for {len(header)} columns"))
            raw: dict = dict(zip(header, cells))
            raw["aliases"] = [a for a in split_bars(raw.get("aliases", "")) if a.strip()] or None
            if raw.get("alias_counts", "").strip():
                try:
                    raw["alias_counts"] = [int(c) for c in split_bars(raw["alias_counts"])]
                except ValueError:
                    raise AnnotatorError(Errors.E203.format(
                        path=path, line=line, reason='"alias_counts" must be "|"-separated integers')) from None
            else:
                raw["alias_counts"] = None
            rows.append((line, _entry(path, line, raw)))
        line = reader.line_num + 1
    return rows


def write_jsonl(entries: Iterable[KbEntry], out: Path) -> int:
    n = 0
    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        for e in entries:
            fh.write(json.dumps({"id": e.kb_id, "name": e.name, "type": e.type, "description": e.description,
                                 "aliases": e.aliases, "alias_counts": e.counts}, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_csv(entries: Iterable[KbEntry], out: Path) -> int:
    n = 0
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for e in entries:
            writer.writerow([e.kb_id, e.name, e.type, e.description, join_bars(e.aliases),
                             join_bars(str(c) for c in e.counts)])
            n += 1
    return n
