"""UIMA CAS XMI with DKPro types, as INCEpTION reads and writes it: one `<name>.xmi` per document
plus `TypeSystem.xml`, via dkpro-cassis.

    <type4:NamedEntity xmi:id="9" sofa="1" begin="0" end="12" value="PERSON" identifier="Q495727"/>
    <type2:DocumentMetaData xmi:id="2" sofa="1" begin="0" end="26" documentId="a1"/>
    <cas:Sofa xmi:id="1" sofaNum="1" sofaID="_InitialView" sofaString="Kim Kwan-jin visits Tokyo."/>

`value` is the label, `identifier` the KB id. An unchecked suggestion (written only when asked for)
has `inception_internal_predicted="true"`, the Boolean feature INCEpTION itself puts on a
recommender's predictions; the type system written beside the documents declares it, and reading
takes it back as status "suggested". XMI counts offsets in UTF-16 code units; cassis converts
them to and from code points when it saves and loads, so our offsets stay exact (an offset inside a
surrogate pair or past the end is a coded error on read). Known tokens are written as DKPro `Token`s
and read back. XML 1.0 cannot hold most control characters: a text with one is refused on write.
Reading takes a directory or one .xmi; the `TypeSystem.xml` beside it is used when present, else
the DKPro types below (what INCEpTION's own files use: NamedEntity value/identifier, Token, Sentence,
DocumentMetaData with its standard features), types we do not know being skipped.

A KB identifier is kept as written: INCEpTION's IRIs (`http://www.wikidata.org/entity/Q884`) are the
kb_id as they are, and go back out the same. What the project cannot hold is carried in the
document (`DocRecord.carried["xmi"]`) and written back to XMI: the DocumentMetaData features, the
Sentences, NamedEntities with no `value` (no label: counted in the import summary, never an
empty label) and zero-width NamedEntities (INCEpTION allows them; a span cannot be empty). Without
imported Sentences, a Sentence is written per run of tokens up to a token ending in . ! or ? or a line
break. Annotations of other types (POS, lemmas, dependencies, INCEpTION's custom layers
`webanno.custom.*` ...) are not imported: the import summary names each type with its count. Features
of our types that the DKPro types below lack (a Token's `pos`, `lemma`, `morph`) do not refuse the
file when it comes without its type system: they are read as strings and not kept.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Iterable

from cassis import Cas, TypeSystem, load_cas_from_xmi, load_typesystem
from lxml import etree

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.brat import check_names
from annotator.formats.files import MAX_FILE_BYTES, check_record, check_regular, is_offset, open_file

SUFFIX = ""  # a directory
NAMED_ENTITY = "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity"
TOKEN = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Token"
SENTENCE = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Sentence"
METADATA = "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.DocumentMetaData"
META_STRINGS = ("documentTitle", "documentId", "documentUri", "collectionId", "documentBaseUri")
META_KEPT = (*META_STRINGS[1:], "isLastSegment", "language")  # carried back (the title is a column)
TYPESYSTEM = "TypeSystem.xml"
PREDICTED = "inception_internal_predicted"  # INCEpTION's mark of a prediction, not a decision
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def typesystem() -> TypeSystem:
    """The DKPro types we use, with the features we fill."""
    ts = TypeSystem()
    ne = ts.create_type(NAMED_ENTITY, supertypeName="uima.tcas.Annotation")
    ts.create_feature(ne, "value", "uima.cas.String")
    ts.create_feature(ne, "identifier", "uima.cas.String")
    ts.create_feature(ne, PREDICTED, "uima.cas.Boolean")
    ts.create_type(TOKEN, supertypeName="uima.tcas.Annotation")
    ts.create_type(SENTENCE, supertypeName="uima.tcas.Annotation")
    meta = ts.create_type(METADATA, supertypeName="uima.tcas.DocumentAnnotation")
    for feature in META_STRINGS:
        ts.create_feature(meta, feature, "uima.cas.String")
    ts.create_feature(meta, "isLastSegment", "uima.cas.Boolean")
    return ts


def check_text(doc: DocRecord) -> None:
    """Refuse, before anything is written, a string that XML 1.0 cannot hold."""
    values = [("text", doc.text), ("title", doc.title), ("name", doc.name)]
    for sp in doc.spans:
        values += [("label", sp.label), ("KB id", sp.kb_id or "")]
    for what, value in values:
        bad = _NOT_XML.search(value)
        if bad:
            shown = value[max(0, bad.start() - 20):bad.end() + 20]  # a text may be long
            reason = f"U+{ord(bad.group()):04X} at offset {bad.start()} is not allowed in XML 1.0"
            raise AnnotatorError(Errors.E104.format(fmt="XMI", what=what, value=shown, name=doc.name,
                                                    reason=reason))


def to_cas(doc: DocRecord, ts: TypeSystem) -> Cas:
    cas = Cas(typesystem=ts)
    cas.sofa_string = doc.text
    carried = doc.carried.get("xmi") or {}
    meta, token, ne = ts.get_type(METADATA), ts.get_type(TOKEN), ts.get_type(NAMED_ENTITY)
    kept = {"documentId": doc.name, "language": "x-unspecified", **carried.get("meta", {})}
    cas.add(meta(begin=0, end=len(doc.text), documentTitle=doc.title, **kept))
    for start, end in doc.tokens or []:
        cas.add(token(begin=start, end=end))
    sentence = ts.get_type(SENTENCE)
    for start, end in carried.get("sentences") or sentences(doc.text, doc.tokens or []):
        cas.add(sentence(begin=start, end=end))
    for sp in sorted(doc.spans, key=lambda s: (s.start, s.end, s.label)):
        predicted = {PREDICTED: True} if sp.status == "suggested" else {}
        cas.add(ne(begin=sp.start, end=sp.end, value=sp.label, identifier=sp.kb_id, **predicted))
    for start, end, identifier in carried.get("unlabelled", []):
        cas.add(ne(begin=start, end=end, identifier=identifier))
    for start, end, value, identifier in carried.get("zero_width", []):
        cas.add(ne(begin=start, end=end, value=value, identifier=identifier))
    return cas


def sentences(text: str, tokens: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence bounds from the tokens: a sentence ends with a token ending in . ! or ?, or before a
    line break; with no tokens, one sentence per non-blank line."""
    if not tokens:
        return [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*", text)]
    out, first = [], None
    for i, (start, end) in enumerate(tokens):
        first = start if first is None else first
        following = tokens[i + 1][0] if i + 1 < len(tokens) else len(text)
        if text[end - 1] in ".!?" or "\n" in text[end:following] or i + 1 == len(tokens):
            out.append((first, end))
            first = None
    return out


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    out = Path(out)
    docs = list(docs)
    if out.exists() and not out.is_dir():
        raise AnnotatorError(Errors.E106.format(fmt="XMI", path=out, reason="it is a file"))
    check_names(docs, "XMI")
    for doc in docs:
        check_text(doc)
    out.mkdir(parents=True, exist_ok=True)
    ts = typesystem()
    report = FormatReport()
    for doc in docs:
        to_cas(doc, ts).to_xmi(out / f"{doc.name}.xmi")
        report.documents += 1
        report.spans += len(doc.spans)
    ts.to_xml(out / TYPESYSTEM)
    return report


def read(path: Path) -> list[DocRecord]:
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.xmi"))
        if not files:
            raise AnnotatorError(Errors.E018.format(path=path, suffixes=".xmi"))
    else:
        check_regular(path)
        files = [path]
    ts_path = files[0].parent / TYPESYSTEM
    if ts_path.exists():
        if check_regular(ts_path) > MAX_FILE_BYTES:
            raise AnnotatorError(Errors.E109.format(path=ts_path, limit=MAX_FILE_BYTES, what="file"))
        try:
            ts, lenient = load_typesystem(ts_path), False
        except Exception as e:  # lxml and cassis raise several types for a bad type system
            reason = f"not a UIMA type system ({e})"
            raise AnnotatorError(Errors.E101.format(path=ts_path, reason=reason)) from None
    else:
        ts, lenient = typesystem(), True  # skip types we do not know rather than fail
    return [read_one(f, ts, lenient) for f in files]


def read_one(path: Path, ts: TypeSystem, lenient: bool) -> DocRecord:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if check_regular(path) > MAX_FILE_BYTES:
                raise AnnotatorError(Errors.E109.format(path=path, limit=MAX_FILE_BYTES, what="file"))
            undeclared, others = _scan(path, ts)
            if lenient and undeclared:
                ts = _with_features(undeclared)
            with open_file(path) as fh:
                cas = load_cas_from_xmi(fh, typesystem=ts, lenient=lenient)
    except AnnotatorError:
        raise
    except Exception as e:  # lxml syntax errors carry a line; cassis raises plain exceptions
        line = getattr(e, "lineno", None)
        reason = f"not a readable XMI file ({type(e).__name__}: {e})"
        if line:
            raise AnnotatorError(Errors.E100.format(path=path, line=line, reason=reason)) from None
        raise AnnotatorError(Errors.E101.format(path=path, reason=reason)) from None
    for w in caught:
        if "offset" in str(w.message):
            reason = f"an offset is past the end of the text or splits a character ({w.message})"
            raise AnnotatorError(Errors.E101.format(path=path, reason=reason))
    text = cas.sofa_string or ""
    entities = _select(cas, ts, NAMED_ENTITY)
    predicted = ts.get_type(NAMED_ENTITY).get_feature(PREDICTED) is not None if entities else False
    has = (lambda a, f: a.type.get_feature(f) is not None)
    zero_width = [a for a in entities if a.begin == a.end]
    for a in zero_width:
        if not (is_offset(a.begin) and 0 <= a.begin <= len(text)):
            raise AnnotatorError(Errors.E101.format(
                path=path, reason=f"NamedEntity {a.begin}-{a.end} lies outside the text"))
    entities = [a for a in entities if a.begin != a.end]
    labelled = [a for a in entities if has(a, "value") and a.get("value")]
    unlabelled = [a for a in entities if not (has(a, "value") and a.get("value"))]
    spans = [SpanRecord(a.begin, a.end, a.get("value"), a.get("identifier") if has(a, "identifier") else None,
                        "suggested" if predicted and a.get(PREDICTED) else "accepted") for a in labelled]
    spans += [SpanRecord(a.begin, a.end, "-") for a in unlabelled]  # checked with the others, not kept
    for sp in spans:
        if not (is_offset(sp.start) and is_offset(sp.end)) or not 0 <= sp.start < sp.end <= len(text):
            raise AnnotatorError(Errors.E101.format(
                path=path, reason=f"NamedEntity {sp.start}-{sp.end} lies outside the text or is empty"))
    tokens = [(a.begin, a.end) for a in _select(cas, ts, TOKEN)] or None
    metas = _select(cas, ts, METADATA)
    title = (metas[0].get("documentTitle") or "") if metas and has(metas[0], "documentTitle") else ""
    carried = _carried(metas[0] if metas else None, _select(cas, ts, SENTENCE), unlabelled, zero_width)
    return check_record(DocRecord(name=path.stem, text=text, title=str(title), spans=spans[:len(labelled)],
                                  tokens=tokens, annotated=True, carried=carried,
                                  left_out={f"xmi {_short(name)}": n for name, n in sorted(others.items())}),
                        path, "the document")


def _carried(meta, sents: list, unlabelled: list, zero_width: list) -> dict:
    """The DocumentMetaData features, Sentences, NamedEntities without a value and zero-width ones,
    to write back."""
    kept = {f: meta.get(f) for f in META_KEPT
            if meta is not None and meta.type.get_feature(f) is not None and meta.get(f) is not None}
    ident = (lambda a: a.get("identifier") if a.type.get_feature("identifier") else None)
    content = {"meta": kept, "sentences": [[a.begin, a.end] for a in sents],
               "unlabelled": [[a.begin, a.end, ident(a)] for a in unlabelled],
               "zero_width": [[a.begin, a.end, a.get("value") if a.type.get_feature("value") else None, ident(a)]
                              for a in zero_width],
               "counts": {k: n for k, n in (("sentences", len(sents)),
                                             ("named entities without a value", len(unlabelled)),
                                             ("zero-width named entities", len(zero_width))) if n}}
    return {"xmi": content} if any(content.values()) else {}


KNOWN = (NAMED_ENTITY, TOKEN, SENTENCE, METADATA)


def _type_name(tag) -> str | None:
    """The UIMA type an XMI element stands for ("{http:///de/.../type.ecore}Token" is
    "de....type.Token"); None for the CAS's own elements (Sofa, View, NULL) and XMI's."""
    if not isinstance(tag, str) or not tag.startswith("{http:///"):
        return None
    uri, _, local = tag[len("{http:///"):].partition("}")
    package = uri.removesuffix(".ecore").replace("/", ".")
    return None if package == "uima.cas" else f"{package}.{local}"


def _scan(path: Path, ts: TypeSystem) -> tuple[dict[str, set[str]], Counter]:
    """What the file holds beyond what we read: per type of ours, the features `ts` does not declare,
    and the number of annotations of each other type. Streamed, element by element."""
    declared = {name: {f.name for f in ts.get_type(name).all_features} for name in KNOWN if ts.contains_type(name)}
    undeclared: dict[str, set[str]] = {}
    others: Counter = Counter()
    depth = 0
    with open_file(path) as fh:
        for event, el in etree.iterparse(fh, events=("start", "end"), resolve_entities=False, no_network=True,
                                         huge_tree=True):
            if event == "end":
                depth -= 1
                if depth == 1:  # a top-level element: done with it
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
                continue
            depth += 1
            name = _type_name(el.tag) if depth == 2 else None
            if name in declared:
                new = {a for a in el.attrib if not a.startswith("{") and a not in declared[name]}
                if new:
                    undeclared.setdefault(name, set()).update(new)
            elif name is not None and name not in KNOWN:
                others[name] += 1
    return undeclared, others


def _with_features(undeclared: dict[str, set[str]]) -> TypeSystem:
    """Our types with the file's further features of them, as strings (read, not kept)."""
    ts = typesystem()
    for name, features in undeclared.items():
        for feature in sorted(features):
            ts.create_feature(ts.get_type(name), feature, "uima.cas.String")
    return ts


def _short(type_name: str) -> str:
    return type_name.removeprefix("de.tudarmstadt.ukp.dkpro.core.api.")


def _select(cas: Cas, ts: TypeSystem, type_name: str) -> list:
    return list(cas.select(type_name)) if ts.contains_type(type_name) else []
