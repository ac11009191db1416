"""What an import reads: the files paths name (a folder: its text files), each as its format's records,
checked one by one (sizes, offsets, tokens) and streamed, so that an import of any size stays in
bounded memory. `io/importing.py` stores what this yields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from annotator.core.records import DocRecord
from annotator.core.text import normalize_plain, title_of
from annotator.errors import AnnotatorError, Errors
from annotator.formats import registry
from annotator.formats.files import check_record, check_regular, open_file, read_bytes

MAX_DOCUMENT_BYTES = 10_000_000
TEXT_SUFFIXES = (".txt",)
AUTO = {".txt": "txt", ".jsonl": "jsonl", ".spacy": "spacy", ".ann": "brat", ".xmi": "xmi",  # --format auto
        ".conll": "conll", ".json": "labelstudio"}  # (Label Studio's export is the one JSON file read)
SNIFF_BYTES = 1 << 20  # of a .jsonl's first line, to tell doccano from Prodigy


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise AnnotatorError(Errors.E013.format(path=path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AnnotatorError(Errors.E011.format(path=path, offset=e.start)) from None


def read_text_file(path: Path) -> DocRecord:
    size = check_regular(path)  # a FIFO or a link to /dev/zero is refused before it is read
    if size > MAX_DOCUMENT_BYTES:
        raise AnnotatorError(Errors.E014.format(path=path, size=size, limit=MAX_DOCUMENT_BYTES))
    text = normalize_plain(_decode(path, read_bytes(path, MAX_DOCUMENT_BYTES)))
    if not text.strip():
        raise AnnotatorError(Errors.E012.format(path=path))
    return DocRecord(name=path.stem, text=text, title=title_of(text), meta={"source": path.name})


Source = tuple[str, Path]  # (format, file)


def sources(paths: Iterable[str | Path], fmt: str = "auto") -> list[Source]:
    """The files the paths name, with the format each is read as; folders mean their text files.

    With "auto", what other tools write is recognised rather than read as plain text, which would
    keep the texts and drop every annotation without a word: a text with a brat `.ann` beside it,
    and a folder of such pairs, are brat; `.ann` and `.xmi` files, and folders of them, are read as
    brat and XMI (each folder holding them is one source: its type system is shared)."""
    if fmt not in ("auto", "txt"):
        registry.info(fmt, also=("auto", "txt"))  # E040 before any file is looked at
    out: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise AnnotatorError(Errors.E010.format(path=path))
        if path.is_dir() and fmt in ("auto", "txt"):
            # a folder is a corpus of text files; JSONL is named explicitly (a folder may hold other
            # JSONL, such as the sample corpus's knowledge base)
            found = _folder(path) if fmt == "auto" else [("txt", p) for p in _texts(path)]
            if not found:
                raise AnnotatorError(Errors.E018.format(path=path, suffixes=", ".join(TEXT_SUFFIXES)))
            out.extend(found)
            continue
        kind = fmt if fmt != "auto" else _kind(path)
        if kind != "txt" and path.suffix != ".ann" and path.is_file() and path.stat().st_size == 0:  # brat: none yet
            raise AnnotatorError(Errors.E012.format(path=path))
        out.append((kind, path))
    return out


def _texts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in TEXT_SUFFIXES and not p.is_dir())  # a FIFO: E108, unread


def _kind(path: Path) -> str:
    """--format auto of one file: by suffix, and a text with a brat annotation file beside it is brat;
    a .jsonl whose first line holds doccano's spans (`label`, `labels` or `entities` lists, no
    `spans`) is doccano (read as Prodigy tasks, its spans were left in the task's keys)."""
    if path.suffix in TEXT_SUFFIXES and path.with_suffix(".ann").is_file():
        return "brat"
    kind = AUTO.get(path.suffix, "txt")
    if kind == "jsonl" and _doccano_line(path):
        return "doccano"
    return kind


def _doccano_line(path: Path) -> bool:
    """Whether the first non-blank line of a .jsonl is a doccano line; anything unreadable is not (the
    reader then says what is wrong with it)."""
    if not path.is_file():  # a FIFO is never opened here (it would wait for a writer): the reader refuses it
        return False
    try:
        with open(path, "rb") as fh:
            line = b""
            while not line.strip():
                line = fh.readline(SNIFF_BYTES)
                if not line:
                    return False
        task = json.loads(line.decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return False
    return (isinstance(task, dict) and "spans" not in task
            and any(isinstance(task.get(key), list) and task[key] for key in ("label", "labels", "entities")))


def _folder(folder: Path) -> list[Source]:
    """--format auto of a folder: each folder in it holding brat or XMI files is one source of that
    format; the other text files are plain text."""
    found: list[Source] = []
    claimed: set[Path] = set()
    for suffix, kind in ((".ann", "brat"), (".xmi", "xmi")):
        for where in sorted({p.parent for p in folder.rglob(f"*{suffix}") if p.is_file()} - claimed):
            found.append((kind, where))
            claimed.add(where)
    found += [("txt", p) for p in _texts(folder) if not (p.parent in claimed and p.with_suffix(".ann").is_file())]
    return sorted(found, key=lambda s: str(s[1]))


def estimate(found: list[Source]) -> int:
    """How many documents the sources hold, for progress: one per text file, one per non-blank line
    of JSONL (counted without parsing), a DocBin's lengths, and what the other formats read."""
    n = 0
    for kind, path in found:
        if kind == "txt":
            n += 1
        elif kind == "jsonl":
            with open_file(path) as fh:  # a FIFO is refused (E108), never waited on
                n += sum(1 for line in fh if line.strip())
        else:
            module = registry.get(kind)
            count = getattr(module, "count", None)  # a format that streams counts without reading all
            n += count(path) if count else len(module.read(path))
    return n


def iter_records(found: list[Source], skip_invalid: bool = False,
                 skipped: list[str] | None = None) -> Iterator[DocRecord]:
    """Each document of the sources in turn, checked; JSONL is read a line at a time. The line-based
    readers (jsonl, doccano) leave out blank tasks, and with `skip_invalid` unreadable lines, listing
    each in `skipped`; the other formats are read whole (a bad file refuses the import)."""
    for kind, path in found:
        if kind == "txt":
            yield read_text_file(path)
            continue
        module = registry.get(kind)
        stream = getattr(module, "stream", None)
        read = stream(path, skip_invalid=skip_invalid, skipped=skipped) if stream else module.read(path)
        for number, rec in enumerate(read, start=1):
            # every format's records pass the same checks: a line-based reader checks each as it reads it
            # (with its line number, so that --skip-invalid can leave it out), the others here
            if stream is None:
                check_record(rec, path, f"document {number}", allow_empty=False)
            elif not rec.text.strip():
                raise AnnotatorError(Errors.E113.format(path=path, where=f"document {number}", name=rec.name))
            check_tokens(rec, path, number)
            size = len(rec.text.encode("utf-8"))
            if size > MAX_DOCUMENT_BYTES:
                raise AnnotatorError(Errors.E014.format(path=f"{path} ({rec.name})", size=size,
                                                        limit=MAX_DOCUMENT_BYTES))
            rec.title = rec.title or title_of(rec.text)
            yield rec


def read_paths(paths: Iterable[str | Path], fmt: str = "auto") -> list[DocRecord]:
    """Every document the paths hold, read and checked (all in memory: small inputs and tests)."""
    return list(iter_records(sources(paths, fmt)))


def check_tokens(rec: DocRecord, path: Path, number: int) -> None:
    """A file's own tokens become the document's: each a non-empty (start, end) inside the text,
    in order and not overlapping (E140)."""
    pos = 0
    for k, token in enumerate(rec.tokens or []):
        ok = (isinstance(token, (tuple, list)) and len(token) == 2
              and all(type(x) is int for x in token) and pos <= token[0] < token[1] <= len(rec.text))
        if not ok:
            raise AnnotatorError(Errors.E140.format(path=path, number=number, name=rec.name, k=k + 1,
                                                    token=str(token)[:40], length=len(rec.text)))
        pos = token[1]
