"""brat standoff: per document `<name>.txt` (the text, byte for byte) and `<name>.ann`:

    T1	PERSON 0 12	Kim Kwan-jin
    N1	Reference T1 KB:Q495727	Kim Kwan-jin
    T2	GPE 20 25	Tokyo
    T3	GPE 27 32	Seoul
    N2	Reference T3 KB:NIL	Seoul
    A1	Suggested T3

Offsets are code points (brat's own convention) into the .txt, which is written and read with
newline="" so CRLF documents keep their offsets. A KB id of ours is written as `KB:<kb_id>`, NIL
included (`KB:NIL`: the decision "checked, no entity fits" comes back when the folder is read again),
and read back by dropping the `KB:` prefix; other databases keep theirs (`Wikipedia:64488` is the
kb_id `Wikipedia:64488`). The text field of a T line has line breaks replaced by spaces (same length,
which is what brat checks). An unchecked suggestion (written only when asked for) carries the binary
attribute `Suggested` (`A1<TAB>Suggested T3`), declared in annotation.conf, and reads back as status
"suggested". `annotation.conf` and `tools.conf` are written beside the documents. Reading takes a
directory or one .ann/.txt pair.

What the project cannot hold comes in whole and goes back out (`DocRecord.carried["brat"]`, kept in
the document's meta): relations (R), events (E) and their trigger T lines (a trigger is not an entity,
so it is no span), equivalences (`*`), attributes (A/M), notes (#), second normalizations, and every
line as it was. A discontinuous text-bound (`T1 ORG 0 5;10 15`) is one span from the first fragment's
start to the last one's end; its line, fragments included, is written back as long as that span is
unchanged. When exporting, each original line comes back verbatim (same id, same normalization and
entry name) while what it stands for is still there: a span with the same start, end and label, a
link to the same id; lines that refer to a removed annotation go with it; new spans get new ids.
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
    conf = _Conf()
    for doc, ann in anns:
        (out / f"{doc.name}.txt").write_text(doc.text, encoding="utf-8", newline="")
        (out / f"{doc.name}.ann").write_text(ann, encoding="utf-8", newline="\n")
        conf.add(doc, ann)
        report.documents += 1
        report.spans += len(doc.spans)
    (out / "annotation.conf").write_text(conf.text(), encoding="utf-8")
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
    """The .ann of a document: the lines it came with that still hold (verbatim, same ids), then a
    line per span, link and suggestion they do not cover, with new ids."""
    carried = doc.carried.get("brat") or {}
    spans = sorted(doc.spans, key=lambda s: (s.start, s.end, s.label))
    for sp in spans:
        _check_span(doc, sp)
    waiting: dict[tuple[int, int, str], list[SpanRecord]] = {}
    for sp in spans:
        waiting.setdefault((sp.start, sp.end, sp.label), []).append(sp)
    matched: dict[str, SpanRecord] = {}
    for tid, (start, end, label) in carried.get("spans", {}).items():
        if waiting.get((start, end, label)):
            matched[tid] = waiting[(start, end, label)].pop(0)
    links, suggested = carried.get("links", {}), carried.get("suggested", {})
    kept = []
    for ann_id, raw, refs in carried.get("lines", []):
        if ann_id in carried.get("spans", {}):
            keep = ann_id in matched
        elif ann_id in links:
            tid, kb_id = links[ann_id]
            keep = tid in matched and matched[tid].kb_id == kb_id
        elif ann_id in suggested:
            keep = suggested[ann_id] in matched and matched[suggested[ann_id]].status == "suggested"
        else:
            keep = True
        if keep:
            kept.append((ann_id, raw, refs))
    kept = _with_their_references(kept)
    lines = [raw for _, raw, _ in kept]
    have = {ann_id for ann_id, _, _ in kept}
    ids = _Ids([ann_id for ann_id, _, _ in carried.get("lines", [])])
    linked = {links[n][0] for n in have if n in links}
    marked = {suggested[a] for a in have if a in suggested}
    todo = [(tid, sp) for tid, sp in matched.items()]
    new = {id(sp) for left in waiting.values() for sp in left}
    todo += [(None, sp) for sp in spans if id(sp) in new]
    for tid, sp in todo:
        surface = doc.text[sp.start:sp.end].translate(_BREAKS)
        if tid is None:
            tid = ids.new("T")
            lines.append(f"{tid}\t{sp.label} {sp.start} {sp.end}\t{surface}")
        if sp.kb_id is not None and tid not in linked:
            lines.append(f"{ids.new('N')}\tReference {tid} {KB_DB}:{sp.kb_id}\t{surface}")
        if sp.status == "suggested" and tid not in marked:
            lines.append(f"{ids.new('A')}\t{SUGGESTED} {tid}")
    return "".join(line + "\n" for line in lines)


def _check_span(doc: DocRecord, sp: SpanRecord) -> None:
    if not sp.label or any(c.isspace() for c in sp.label):
        raise AnnotatorError(Errors.E104.format(fmt="brat", what="label", value=sp.label,
                                                name=doc.name, reason="empty or has whitespace"))
    if sp.kb_id is not None and (not sp.kb_id or any(c.isspace() for c in sp.kb_id)):
        raise AnnotatorError(Errors.E104.format(fmt="brat", what="KB id", value=sp.kb_id,
                                                name=doc.name, reason="empty or has whitespace"))


def _with_their_references(lines: list) -> list:
    """Drop, until none is left, a line that refers to an annotation no longer written (a relation
    whose argument was deleted, then a note on that relation ...)."""
    while True:
        have = {ann_id for ann_id, _, _ in lines}
        kept = [line for line in lines if all(ref in have for ref in line[2])]
        if len(kept) == len(lines):
            return kept
        lines = kept


class _Ids:
    """New ids after the highest of each kind the document already uses (T, N, A ...)."""

    def __init__(self, used: list[str]):
        self.top: dict[str, int] = {}
        for ann_id in used:
            if ann_id[1:].isdigit():
                self.top[ann_id[0]] = max(self.top.get(ann_id[0], 0), int(ann_id[1:]))

    def new(self, kind: str) -> str:
        self.top[kind] = self.top.get(kind, 0) + 1
        return f"{kind}{self.top[kind]}"


class _Conf:
    """annotation.conf declaring every type the written .ann files use, carried ones included, so
    that brat opens them without complaint."""

    def __init__(self):
        self.entities: set[str] = set()
        self.events: dict[str, set[str]] = {}
        self.relations: set[str] = set()
        self.equivs: set[str] = set()
        self.attributes: dict[str, set[str]] = {SUGGESTED: set()}
        self.targets: dict[str, set[str]] = {SUGGESTED: {"<ENTITY>"}}

    def add(self, doc: DocRecord, ann: str) -> None:
        triggers = set((doc.carried.get("brat") or {}).get("triggers", []))
        for line in ann.split("\n"):
            ann_id, _, rest = line.partition("\t")
            data = rest.partition("\t")[0].split()
            if not ann_id or not data:
                continue
            kind = ann_id[0]
            if kind == "T" and ann_id not in triggers:
                self.entities.add(data[0])
            elif kind == "T":
                self.events.setdefault(data[0], set())
            elif kind == "E":
                etype = data[0].rpartition(":")[0]
                roles = {re.sub(r"[0-9]+$", "", arg.rpartition(":")[0]) for arg in data[1:]}
                self.events.setdefault(etype, set()).update(r for r in roles if r)
            elif kind == "R":
                self.relations.add(data[0])
            elif kind == "*":
                self.equivs.add(data[0])
            elif kind in "AM":
                self.attributes.setdefault(data[0], set()).update(data[2:3])
                target = "<EVENT>" if data[1:2] and data[1].startswith("E") else "<ENTITY>"
                self.targets.setdefault(data[0], set()).add(target)

    def text(self) -> str:
        ents = "".join(f"{label}\n" for label in sorted(self.entities - set(self.events)))
        rels = "".join(f"{r}\tArg1:<ANY>, Arg2:<ANY>\n" for r in sorted(self.relations))
        rels += "".join(f"{e}\tArg1:<ANY>, Arg2:<ANY>, <REL-TYPE>:symmetric-transitive\n"
                        for e in sorted(self.equivs))
        events = "".join(f"{e}\t" + ", ".join(f"{r}*:<ANY>" for r in sorted(roles)) + "\n"
                         for e, roles in sorted(self.events.items()))
        attrs = "".join(f"{a}\tArg:{'|'.join(sorted(self.targets[a]))}"
                        + (f", Value:{'|'.join(sorted(v))}" if v else "") + "\n"
                        for a, v in sorted(self.attributes.items()))
        return f"[entities]\n{ents}\n[relations]\n{rels}\n[events]\n{events}\n[attributes]\n{attrs}"


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


CARRIED_KINDS = {"R": "relations", "E": "events", "*": "equivalences", "A": "attributes", "M": "attributes",
                 "#": "notes", "N": "further normalizations"}


def read_pair(ann_path: Path) -> DocRecord:
    txt_path = ann_path.with_suffix(".txt")
    if not txt_path.is_file():
        raise AnnotatorError(Errors.E105.format(path=ann_path, txt=txt_path.name))
    text = read_text(txt_path)
    entries = _entries(ann_path)
    defined = {ann_id for ann_id, *_ in entries}
    triggers = {data.split()[0].rpartition(":")[2] for ann_id, data, _, _ in entries
                if ann_id[0] == "E" and data.split()}
    spans: dict[str, list] = {}  # T id -> [start, end, label]
    kb_ids: dict[str, str] = {}
    links: dict[str, list] = {}  # N id -> [T id, kb_id]
    suggested: dict[str, str] = {}  # A id -> T id
    counts: dict[str, int] = {}
    lines = []
    for ann_id, data, tail, lineno in entries:
        def bad(reason: str) -> AnnotatorError:
            return AnnotatorError(Errors.E100.format(path=ann_path, line=lineno, reason=reason))

        kind, fields = ann_id[0], data.split()
        raw = f"{ann_id}\t{data}" + (f"\t{tail}" if tail is not None else "")
        refs = [f.rpartition(":")[2] for f in (fields if kind == "E" else fields[1:])]
        carried = CARRIED_KINDS.get(kind, "other lines")
        if kind == "T":
            start, end, label, pieces = _textbound(data, tail, text, bad)
            refs = []
            if ann_id in triggers:
                carried = "event triggers"
            else:
                spans[ann_id], carried = [start, end, label], None
                if pieces > 1:
                    counts["discontinuous spans"] = counts.get("discontinuous spans", 0) + 1
        elif kind == "N":
            match = _N_DATA.fullmatch(data.strip())
            if not match:
                raise bad(f"expected 'Reference T<n> DB:ID', found {data!r}")
            _, target, db, ident = match.groups()
            if target not in defined:
                raise bad(f"'{ann_id}' refers to '{target}', which is not defined in the file")
            refs = [target]
            if target in spans and target not in kb_ids:
                kb_ids[target] = ident if db == KB_DB else f"{db}:{ident}"
                links[ann_id], carried = [target, kb_ids[target]], None
        elif kind == "A" and fields[:1] == [SUGGESTED] and len(fields) == 2 and fields[1] in spans:
            suggested[ann_id], carried = fields[1], None
        if carried:
            counts[carried] = counts.get(carried, 0) + 1
        lines.append([ann_id, raw, [r for r in refs if r in defined and r != ann_id]])
    records = [SpanRecord(s, e, label, kb_ids.get(t), "suggested" if t in suggested.values() else "accepted")
               for t, (s, e, label) in spans.items()]
    carried = {"brat": {"lines": lines, "spans": spans, "links": links, "suggested": suggested,
                        "triggers": sorted(triggers & defined), "counts": counts}} if lines else {}
    return check_record(DocRecord(name=ann_path.stem, text=text, spans=records, annotated=True, carried=carried),
                        txt_path, "the text")


def _entries(ann_path: Path) -> list[tuple[str, str, str | None, int]]:
    """(id, data, text field or None, line number) per line; an id used twice is refused (`*`, the
    equivalence, has no id of its own)."""
    out, seen = [], set()
    for lineno, line in enumerate(read_text(ann_path).split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        ann_id, _, rest = line.partition("\t")
        data, tab, tail = rest.partition("\t")
        if not rest or not ann_id:
            raise AnnotatorError(Errors.E100.format(path=ann_path, line=lineno,
                                                    reason="expected an id, a tab and the annotation"))
        if ann_id in seen:
            raise AnnotatorError(Errors.E100.format(path=ann_path, line=lineno,
                                                    reason=f"the id '{ann_id}' is used twice"))
        if ann_id != "*":
            seen.add(ann_id)
        out.append((ann_id, data, tail if tab else None, lineno))
    return out


def _textbound(data, tail, text, bad) -> tuple[int, int, str, int]:
    """(start, end, label, fragments) of a T line; a discontinuous one spans its fragments."""
    match = _T_DATA.fullmatch(data.strip())
    if not match:
        raise bad(f"expected 'LABEL start end', found {data!r}")
    label, offsets = match.groups()
    pieces = [tuple(int(x) for x in piece.split()) for piece in offsets.split(";")]
    for start, end in pieces:
        if not 0 <= start < end <= len(text):
            raise bad(f"span {start}-{end} lies outside the text ({len(text)} characters)")
    surface = " ".join(text[s:e] for s, e in pieces).translate(_BREAKS)
    if tail and not tail.translate(_BREAKS).startswith(surface):
        raise bad(f"span {offsets} says {tail!r} but the text there is {surface!r}")
    return min(s for s, _ in pieces), max(e for _, e in pieces), label, len(pieces)
