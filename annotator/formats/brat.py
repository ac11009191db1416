"""brat standoff: per document `<name>.txt` (the text, byte for byte) and `<name>.ann`:

    T1	PERSON 0 12	Kim Kwan-jin
    N1	Reference T1 KB:Q495727	Kim Kwan-jin
    T2	GPE 20 25	Tokyo
    T3	GPE 27 32	Seoul
    N2	Reference T3 KB:NIL	Seoul
    A1	Suggested T3

Offsets are code points (brat's own convention) into the .txt, which is written and read with
newline="" so CRLF documents keep their offsets. A KB id is written as `KB:<kb_id>`, NIL included
(`KB:NIL`), and read back by dropping the `KB:` prefix; other databases keep theirs (`Wikidata:Q42`).
The text field of a T line has line breaks replaced by spaces (same length, which is what brat checks).
An unchecked suggestion (written only when asked for) carries the binary attribute `Suggested`
(`A1<TAB>Suggested T3`), declared in annotation.conf, and reads back as status "suggested".
`annotation.conf` and `tools.conf` are written beside the documents. Reading takes a directory or one
.ann/.txt pair; relations, events, notes and other attributes are ignored; a discontinuous span
(`0 5;6 10`) is a coded error, never merged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, read_text

SUFFIX = ""  # a directory
KB_DB = "KB"
SUGGESTED = "Suggested"  # the brat attribute of an unchecked suggestion
_BREAKS = str.maketrans({c: " " for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})
_T_DATA = re.compile(r"(\S+) ([0-9]{1,18} [0-9]{1,18}(?:;[0-9]{1,18} [0-9]{1,18})*)")
_N_DATA = re.compile(r"(\S+) (T\S+) ([^\s:]+):(\S+)")
_A_DATA = re.compile(r"(\S+) (T\S+)(?: \S+)?")
_BAD_NAME = re.compile(r'[/\\:*?"<>|\x00-\x1f]')


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    out = Path(out)
    docs = list(docs)
    if out.exists() and not out.is_dir():
        raise AnnotatorError(Errors.E106.format(fmt="brat", path=out, reason="it is a file"))
    anns = [(doc, ann_text(doc)) for doc in docs]  # check everything before writing anything
    check_names(docs, "brat")
    out.mkdir(parents=True, exist_ok=True)
    report = FormatReport()
    labels: set[str] = set()
    for doc, ann in anns:
        (out / f"{doc.name}.txt").write_text(doc.text, encoding="utf-8", newline="")
        (out / f"{doc.name}.ann").write_text(ann, encoding="utf-8", newline="\n")
        labels.update(sp.label for sp in doc.spans)
        report.documents += 1
        report.spans += len(doc.spans)
    (out / "annotation.conf").write_text(annotation_conf(labels), encoding="utf-8")
    (out / "tools.conf").write_text(TOOLS_CONF, encoding="utf-8")
    return report


def check_names(docs: list[DocRecord], fmt: str) -> None:
    seen: set[str] = set()
    for doc in docs:
        reason = None
        if not doc.name or doc.name in (".", "..") or _BAD_NAME.search(doc.name):
            reason = 'it is empty or contains one of / \\ : * ? " < > | or a control character'
        elif doc.name.lower() in seen:
            reason = "another document has the same name (ignoring case)"
        if reason:
            raise AnnotatorError(Errors.E103.format(name=doc.name, fmt=fmt, reason=reason))
        seen.add(doc.name.lower())


def ann_text(doc: DocRecord) -> str:
    lines = []
    n = a = 0
    for t, sp in enumerate(sorted(doc.spans, key=lambda s: (s.start, s.end, s.label)), start=1):
        if not sp.label or any(c.isspace() for c in sp.label):
            raise AnnotatorError(Errors.E104.format(fmt="brat", what="label", value=sp.label,
                                                    name=doc.name, reason="empty or has whitespace"))
        surface = doc.text[sp.start:sp.end].translate(_BREAKS)
        lines.append(f"T{t}\t{sp.label} {sp.start} {sp.end}\t{surface}")
        if sp.kb_id is not None:
            if not sp.kb_id or any(c.isspace() for c in sp.kb_id):
                raise AnnotatorError(Errors.E104.format(fmt="brat", what="KB id", value=sp.kb_id,
                                                        name=doc.name, reason="empty or has whitespace"))
            n += 1
            lines.append(f"N{n}\tReference T{t} {KB_DB}:{sp.kb_id}\t{surface}")
        if sp.status == "suggested":
            a += 1
            lines.append(f"A{a}\t{SUGGESTED} T{t}")
    return "".join(line + "\n" for line in lines)


def annotation_conf(labels: set[str]) -> str:
    entities = "".join(f"{label}\n" for label in sorted(labels))
    return f"[entities]\n{entities}\n[relations]\n\n[events]\n\n[attributes]\n{SUGGESTED}\tArg:<ENTITY>\n"


# Sentences split at newlines, tokens at whitespace: brat then never splits a text on its own rules.
# The KB normalization links to Wikidata, where most ids come from; local ids still round-trip.
TOOLS_CONF = """[options]
Tokens\ttokenizer:whitespace
Sentences\tsplitter:newline

[normalization]
KB\t<URL>:https://www.wikidata.org/, <URLBASE>:https://www.wikidata.org/wiki/%s
"""


def read(path: Path) -> list[DocRecord]:
    path = Path(path)
    if path.is_dir():
        anns = sorted(path.glob("*.ann"))
        if not anns:
            raise AnnotatorError(Errors.E018.format(path=path, suffixes=".ann + .txt"))
    elif path.suffix in (".ann", ".txt") and path.with_suffix(".ann").is_file():
        anns = [path.with_suffix(".ann")]
    else:
        raise AnnotatorError(Errors.E010.format(path=path.with_suffix(".ann")))
    return [read_pair(ann) for ann in anns]


def read_pair(ann_path: Path) -> DocRecord:
    txt_path = ann_path.with_suffix(".txt")
    if not txt_path.is_file():
        raise AnnotatorError(Errors.E105.format(path=ann_path, txt=txt_path.name))
    text = read_text(txt_path)
    bounds: dict[str, tuple[int, int, str, int]] = {}
    kb_ids: dict[str, str] = {}
    suggested: set[str] = set()
    seen: set[str] = set()
    for lineno, line in enumerate(read_text(ann_path).split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue

        def bad(reason: str) -> AnnotatorError:
            return AnnotatorError(Errors.E100.format(path=ann_path, line=lineno, reason=reason))

        ann_id, _, rest = line.partition("\t")
        data, _, tail = rest.partition("\t")
        if not rest or not ann_id:
            raise bad("expected an id, a tab and the annotation")
        if ann_id in seen:
            raise bad(f"the id '{ann_id}' is used twice")
        seen.add(ann_id)
        if ann_id[0] == "T":
            bounds[ann_id] = _textbound(ann_id, data, tail, text, ann_path, lineno, bad)
        elif ann_id[0] == "N":
            match = _N_DATA.fullmatch(data.strip())
            if not match:
                raise bad(f"expected 'Reference T<n> DB:ID', found {data!r}")
            _, target, db, ident = match.groups()
            if target not in bounds:
                raise bad(f"'{ann_id}' refers to '{target}', which is not defined above it")
            if target in kb_ids:
                raise bad(f"'{target}' has a second normalization; keep one KB id per mention")
            kb_ids[target] = ident if db == KB_DB else f"{db}:{ident}"
        elif ann_id[0] == "A":
            match = _A_DATA.fullmatch(data.strip())
            if match and match.group(1) == SUGGESTED:
                if match.group(2) not in bounds:
                    raise bad(f"'{ann_id}' refers to '{match.group(2)}', which is not defined above it")
                suggested.add(match.group(2))
    spans = [SpanRecord(s, e, label, kb_ids.get(t), "suggested" if t in suggested else "accepted")
             for t, (s, e, label, _) in bounds.items()]
    return check_record(DocRecord(name=ann_path.stem, text=text, spans=spans, annotated=True), txt_path, "the text")


def _textbound(ann_id, data, tail, text, ann_path, lineno, bad):
    match = _T_DATA.fullmatch(data.strip())
    if not match:
        raise bad(f"expected 'LABEL start end', found {data!r}")
    label, offsets = match.groups()
    if ";" in offsets:
        raise AnnotatorError(Errors.E102.format(path=ann_path, line=lineno, ann_id=ann_id,
                                                offsets=offsets))
    start, end = (int(x) for x in offsets.split())
    if not 0 <= start < end <= len(text):
        raise bad(f"span {start}-{end} lies outside the text ({len(text)} characters)")
    surface = text[start:end].translate(_BREAKS)
    if tail and not tail.translate(_BREAKS).startswith(surface):
        raise bad(f"span {start}-{end} says {tail!r} but the text there is {text[start:end]!r}")
    return start, end, label, lineno
