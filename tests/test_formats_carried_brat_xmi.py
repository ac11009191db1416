"""Real files from brat, INCEpTION and dkpro-cassis (tests/data/brat, tests/data/xmi) come in whole
and go back out as those tools wrote them, through a project's database."""

from __future__ import annotations

import shutil
from pathlib import Path

from cassis import load_cas_from_xmi, load_typesystem
from sqlalchemy import select

from annotator.core.db.models import Document, Entity, Span
from annotator.core.records import CARRIED, DocRecord, SpanRecord
from annotator.formats import brat, xmi
from annotator.io.exporting import export
from annotator.io.importing import import_paths

DATA = Path(__file__).parent / "data"
BRAT_FILES = sorted((DATA / "brat").glob("*.ann"))
XMI_FILES = sorted((DATA / "xmi").glob("*.xmi"))
LAYER = "colleague"


def brat_through_project(store, tmp_path, src: Path) -> tuple:
    report = import_paths(store, [src], fmt="brat", use_model=False, as_layer=LAYER)
    export(store, "brat", tmp_path / "out", layer=LAYER, status="all")
    return report, tmp_path / "out"


def test_brat_real_files_come_back_line_for_line(store, tmp_path):
    """Relations, events and triggers, equivalences, attributes, notes and a Wikipedia normalization
    with its entry name: every line back, same ids, same order."""
    report, out = brat_through_project(store, tmp_path, DATA / "brat")
    for ann in BRAT_FILES:
        assert (out / ann.name).read_text(encoding="utf-8") == ann.read_text(encoding="utf-8"), ann.name
        assert (out / ann.with_suffix(".txt").name).read_bytes() == ann.with_suffix(".txt").read_bytes()
    assert dict(report.carried) == {"brat relations": 2, "brat events": 3, "brat event triggers": 3,
                                    "brat attributes": 5, "brat notes": 1, "brat equivalences": 3}
    with store.Session() as s:
        labels = set(s.scalars(select(Span.label)))
        metas = list(s.scalars(select(Document.meta)))
        kb_ids = set(s.scalars(select(Entity.kb_id).join(Span, Span.entity_id == Entity.id)))
    assert all(len(m[CARRIED]["brat"]["lines"]) > 0 for m in metas)  # kept in the database, not in memory
    assert kb_ids == {"Wikipedia:64488"}
    assert "Transfer-money" not in labels and "Hydroxylation" not in labels  # triggers are no entities
    conf = (out / "annotation.conf").read_text()
    assert "Transfer-money\t" in conf.split("[events]")[1] and "Equiv\tArg1" in conf


def test_brat_normalization_keeps_database_and_entry_name(tmp_path):
    [doc] = brat.read(DATA / "brat" / "000-introduction.ann")
    assert SpanRecord(511, 535, "Person", "Wikipedia:64488") in doc.spans
    line = "N1\tReference T5 Wikipedia:64488\tCarlos Salinas de Gortari\n"
    assert line in brat.ann_text(doc)
    doc.spans = [sp if sp.start != 511 else SpanRecord(511, 535, "Person", "Q1") for sp in doc.spans]
    ann = brat.ann_text(doc)  # the link changed: the old N line goes, ours comes with a new id
    assert line not in ann and "N2\tReference T5 KB:Q1\tformer Mexican president\n" in ann


def test_brat_deleted_span_takes_its_relations_and_new_span_gets_a_new_id():
    [doc] = brat.read(DATA / "brat" / "000-introduction.ann")
    doc.spans = [sp for sp in doc.spans if sp.start != 540] + [SpanRecord(0, 4, "Person")]  # T6 "banks" out
    ann = brat.ann_text(doc)
    assert "T6\t" not in ann and "R2\t" not in ann  # Origin Arg1:T6 goes with it
    assert "E1\t" not in ann and "A5\t" not in ann  # so does the event naming T6, and its attribute
    assert "R1\tFamily Arg1:T4 Arg2:T5\t\n" in ann and "T8\tPerson 0 4\t" in ann


def test_brat_discontinuous_span_is_one_span_and_goes_back_in_fragments(tmp_path):
    (tmp_path / "d.txt").write_text("North and South America", encoding="utf-8")
    ann = "T1\tLocation 0 5;16 23\tNorth America\nN1\tReference T1 GeoNames:6255149\tNorth America\n"
    (tmp_path / "d.ann").write_text(ann, encoding="utf-8")
    [doc] = brat.read(tmp_path)
    assert doc.spans == [SpanRecord(0, 23, "Location", "GeoNames:6255149")]
    assert doc.carried["brat"]["counts"] == {"discontinuous spans": 1}
    assert brat.ann_text(doc) == ann


def test_brat_nil_is_ours_and_stays(tmp_path):
    """NIL is our decision "checked, nothing fits": written as KB:NIL so that it comes back."""
    doc = DocRecord("n", "Seoul", spans=[SpanRecord(0, 5, "GPE", "NIL")])
    brat.write([doc], tmp_path)
    assert "N1\tReference T1 KB:NIL\tSeoul" in (tmp_path / "n.ann").read_text()
    assert brat.read(tmp_path)[0].spans == doc.spans


def test_xmi_real_files_read_without_a_type_system(tmp_path):
    docs = {d.name: d for d in xmi.read(DATA / "xmi")}
    assert set(docs) == {f.stem for f in XMI_FILES}
    smileys = docs["cassis-cas-with-smileys"]
    assert smileys.title == "huggingface.txt" and len(smileys.spans) == 5
    assert all(sp.label == "OTH" for sp in smileys.spans)
    unlabelled = docs["inception-tsv3-single-token-without-value"]
    assert unlabelled.spans == [] and unlabelled.carried["xmi"]["counts"]["named entities without a value"] == 1


def test_xmi_real_files_round_trip_through_the_project(store, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(DATA / "xmi", src)
    report = import_paths(store, [src], fmt="xmi", use_model=False, as_layer=LAYER)
    assert report.carried["xmi named entities without a value"] == 1 and report.carried["xmi sentences"] == 6
    export(store, "xmi", tmp_path / "out", layer=LAYER, status="all")
    ts = load_typesystem(tmp_path / "out" / "TypeSystem.xml")
    for original in XMI_FILES:
        with open(original, "rb") as fh:
            before = load_cas_from_xmi(fh, typesystem=xmi.typesystem(), lenient=True)
        with open(tmp_path / "out" / original.name, "rb") as fh:
            after = load_cas_from_xmi(fh, typesystem=ts)
        assert after.sofa_string == before.sofa_string
        # (tokens are the project's own: importing tokenises every document again)
        for type_name, features in ((xmi.NAMED_ENTITY, ("value", "identifier")), (xmi.SENTENCE, ())):
            def rows(cas):
                return sorted((a.begin, a.end, *(a.get(f) or "" for f in features)) for a in cas.select(type_name))
            assert rows(after) == rows(before), (original.name, type_name)
        [meta] = after.select(xmi.METADATA)
        [meta_before] = before.select(xmi.METADATA)
        for feature in xmi.META_KEPT:  # (a missing language is written as INCEpTION's x-unspecified)
            if meta_before.get(feature) is not None:
                assert meta.get(feature) == meta_before.get(feature), feature


def test_xmi_kb_iri_is_kept_as_written(tmp_path):
    iri = "http://www.wikidata.org/entity/Q884"
    doc = DocRecord("k", "South Korea", spans=[SpanRecord(0, 11, "GPE", iri)], tokens=[(0, 5), (6, 11)])
    xmi.write([doc], tmp_path)
    [back] = xmi.read(tmp_path)
    assert back.spans == doc.spans
    assert back.carried["xmi"]["sentences"] == [[0, 11]]  # a sentence from the tokens
