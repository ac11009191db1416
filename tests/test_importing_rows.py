"""Import writes its rows as tuples straight to the driver (core/db/bulk.py) and packs tokens from spaCy's
arrays: what it stores must be exactly what the ORM path and `tokenize` stored before."""

import json
import sqlite3

import pytest
from factories import new_store, write_jsonl
from sqlalchemy import select

from annotator.core.db.models import Document, Span, utcnow
from annotator.core import nlp as nlp_mod
from annotator.core.nlp import blank_tokenizer, doc_tokens, load_model, packed_tokens, suggest, tokenize, tokens_only
from annotator.core.text import pack_tokens
from annotator.errors import AnnotatorError
from annotator.io import importing
from annotator.io.importing import import_paths

TEXTS = ["Kim Kwan-jin visits Seoul.\n\nThe GSOMIA pact 😀 was signed in 東京 on 3/4.",
         "  Leading  spaces,\ttabs\r\nand U.S.-style e-mail: a@b.co ", "x", " "]


@pytest.mark.parametrize("text", TEXTS)
def test_packed_tokens_are_the_tokens_tokenize_gives(text):
    assert packed_tokens(blank_tokenizer()(text)) == pack_tokens(tokenize(text))


def test_packed_tokens_of_an_empty_text():
    assert packed_tokens(blank_tokenizer()("")) == pack_tokens(doc_tokens(blank_tokenizer()(""))) == b""


def test_tokens_only_gives_the_same_tokens_across_a_new_tokenizer(monkeypatch):
    """A streamed import takes a new tokenizer every TOKENIZER_TEXTS texts (its vocabulary would grow
    without bound): the tokens must not change where it does, and a file's own tokens pass through."""
    monkeypatch.setattr(nlp_mod, "TOKENIZER_TEXTS", 2)
    own = [(0, 1)]
    items = [TEXTS[0], own, *TEXTS, *TEXTS[::-1]]
    got = [tokens for tokens, _ in tokens_only(items)]
    assert got[1] is own
    texts = [t for t in items if isinstance(t, str)]
    assert [g for g in got if g is not own] == [pack_tokens(tokenize(t)) for t in texts]


def test_suggest_packs_the_models_tokens():
    nlp = load_model()
    (packed, _), = suggest(nlp, [TEXTS[0]])
    assert packed == pack_tokens(doc_tokens(nlp(TEXTS[0])))


def test_imported_rows_hold_what_the_orm_stores(tmp_path):
    """Tokens as `tokenize` gives them; timestamps and meta in the ORM's own text form (a row the ORM
    writes is the reference), read back by the ORM as the same values."""
    store = new_store(tmp_path / "p.db")
    meta = {"source": "Agence é", "n": [1, {"deep": True}]}
    write_jsonl(tmp_path / "a.jsonl", [{"text": t, "meta": {**meta, "name": f"d{i}"},
                                        "spans": [{"start": 0, "end": 1, "label": "ORG"}]}
                                       for i, t in enumerate(TEXTS[:3])])
    before = utcnow()
    report = import_paths(store, [tmp_path / "a.jsonl"], use_model=False)
    assert report.added == ["d0", "d1", "d2"] and report.spans == 3
    with store.atomic() as s:  # a reference row, written by the ORM
        s.add(Document(name="orm", title="", text="orm text", text_sha256="0" * 64, tokens=b"", meta=meta))
        s.flush()
        s.add(Span(document_id=s.scalar(select(Document.id).where(Document.name == "orm")), annotator_id=1,
                   start=0, end=1, label="ORG"))
    with sqlite3.connect(tmp_path / "p.db") as con:
        rows = con.execute("SELECT name, text, tokens, meta, imported_at FROM documents ORDER BY id").fetchall()
        spans = con.execute("SELECT created_at, updated_at, nil, version FROM spans ORDER BY id").fetchall()
        states = con.execute("SELECT updated_at FROM document_states").fetchall()
    *ours, orm = rows
    for (name, text, tokens, raw_meta, at), original in zip(ours, TEXTS):
        assert text == original and tokens == pack_tokens(tokenize(text))
        assert raw_meta == orm[3]  # the same JSON text
        assert len(at) == len(orm[4]) and at[10] == orm[4][10] == " "  # the same timestamp form
    *ours_spans, orm_span = spans
    assert all(len(c) == len(orm_span[0]) and (n, v) == orm_span[2:] for c, u, n, v in ours_spans)
    assert len(states) == 3 and all(len(u) == len(orm_span[0]) for u, in states)
    with store.Session() as s:
        doc = s.scalar(select(Document).where(Document.name == "d1"))
        assert doc.meta == meta and doc.imported_at >= before.replace(tzinfo=None)
        assert s.scalar(select(Span.created_at).limit(1)) >= before.replace(tzinfo=None)


def test_a_bad_line_after_a_stored_batch_rolls_everything_back(tmp_path, monkeypatch):
    """Batches are inserted as they are read; a bad line after several stores nothing."""
    monkeypatch.setattr(importing, "BATCH", 2)
    store = new_store(tmp_path / "p.db")
    lines = [{"text": f"Article {i}.", "spans": [{"start": 0, "end": 7, "label": "ORG"}]} for i in range(7)]
    write_jsonl(tmp_path / "a.jsonl", lines)
    with open(tmp_path / "a.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "Bad.", "spans": [{"start": 0, "end": 99, "label": "ORG"}]}) + "\n")
    with pytest.raises(AnnotatorError, match="E016"):
        import_paths(store, [tmp_path / "a.jsonl"], use_model=False)
    with sqlite3.connect(tmp_path / "p.db") as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM spans").fetchone() == (0,)


def test_nesting_is_checked_only_where_it_could_be_too_deep(tmp_path):
    """A line with fewer brackets than the depth limit cannot nest past it, so its values are not
    walked; a line with many (here 100 spans) is walked, and passes when shallow; deep meta is E111."""
    store = new_store(tmp_path / "p.db")
    text = " ".join(f"w{i}" for i in range(100))
    spans = [{"start": m, "end": m + len(w), "label": "ORG"} for m, w in
             ((text.index(f"w{i} ") if i < 99 else text.rindex("w99"), f"w{i}") for i in range(100))]
    write_jsonl(tmp_path / "a.jsonl", [{"text": text, "spans": spans, "meta": {"note": "[[{{" * 20}}])
    assert import_paths(store, [tmp_path / "a.jsonl"], use_model=False).spans == 100
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "Deep.", "meta": {"x": json.loads("[" * 65 + "]" * 65)}})
                                      + "\n")
    with pytest.raises(AnnotatorError, match="E111"):
        import_paths(store, [tmp_path / "b.jsonl"], use_model=False)
