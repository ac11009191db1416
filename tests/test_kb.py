"""Knowledge base: import (JSONL, CSV), coded errors, atomicity, re-import, export, starter KB."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from annotator.core.db.models import Alias, Entity
from annotator.core.kb import entities as kb
from annotator.io import kb_transfer
from annotator.errors import AnnotatorError
from annotator.formats.kb_files import join_bars, split_bars

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def entity_count(store) -> int:
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(Entity))


def aliases_of(store, kb_id) -> dict[str, int]:
    with store.Session() as s:
        q = select(Alias.text, Alias.count).join(Entity).where(Entity.kb_id == kb_id)
        return {text: count for text, count in s.execute(q)}


SAMPLE = [
    {"id": "Q884", "name": "South Korea", "type": "GPE", "description": "country", "aliases": ["S.Korea", "Korea"]},
    {"id": "local:gsomia", "name": "General Security of Military Information Agreement", "type": "LAW",
     "aliases": ["GSOMIA"], "alias_counts": [4]},
    {"name": "Kim Kwan-jin", "type": "PERSON", "description": "defence minister"},
]


@pytest.mark.single_backend
def test_kb_normalize_folds_case_quotes_dashes_and_spaces():
    assert kb.normalize("  North  Korea\u2019s ") == "north korea's"
    assert kb.normalize("Seoul\u2013Tokyo") == kb.normalize("SEOUL-tokyo") == "seoul-tokyo"
    assert kb.normalize("Ｋｉｍ") == "kim"  # NFKC: full-width letters


@pytest.mark.single_backend
def test_kb_mention_keys_drop_the_and_possessive():
    assert kb.mention_keys("the U.S.") == ["the u.s.", "u.s."]
    assert kb.mention_keys("Seoul\u2019s") == ["seoul's", "seoul"]


def test_kb_import_jsonl_adds_entities_aliases_and_mints_local_ids(store, tmp_path):
    report = kb_transfer.import_kb(store, write_jsonl(tmp_path / "kb.jsonl", SAMPLE))
    assert report.added == ["Q884", "local:gsomia", "local:kim-kwan-jin"]
    assert report.skipped == [] and report.aliases == 6
    assert aliases_of(store, "Q884") == {"South Korea": 0, "S.Korea": 0, "Korea": 0}
    assert aliases_of(store, "local:gsomia")["GSOMIA"] == 4
    assert aliases_of(store, "local:kim-kwan-jin") == {"Kim Kwan-jin": 0}  # the name is always an alias
    with store.Session() as s:
        assert s.scalar(select(Alias.norm).where(Alias.text == "S.Korea")) == "s.korea"


def test_kb_import_csv_with_escaped_bars_and_counts(store, tmp_path):
    path = tmp_path / "kb.csv"
    path.write_text("id,name,type,description,aliases,alias_counts\n"
                    "Q884,South Korea,GPE,\"country, East Asia\",S.Korea|Korea|A\\|B,1|2|0\n"
                    ",Naoki Tanaka,PERSON,,,\n", encoding="utf-8")
    report = kb_transfer.import_kb(store, path)
    assert report.added == ["Q884", "local:naoki-tanaka"]
    assert aliases_of(store, "Q884") == {"South Korea": 0, "S.Korea": 1, "Korea": 2, "A|B": 0}


@pytest.mark.single_backend
def test_kb_bars_split_and_join_round_trip():
    items = ["a", "b|c", "d\\", "e\\|f"]
    assert split_bars(join_bars(items)) == items
    assert split_bars("") == []


@pytest.mark.parametrize("rows, code, line", [
    ([SAMPLE[0], {"id": "Q1", "type": "GPE"}], "E204", 2),  # no name
    ([SAMPLE[0], {"id": "Q884", "name": "Korea again"}], "E205", 2),  # duplicate id
    ([SAMPLE[0], {"name": "X", "aliases": "not a list"}], "E203", 2),
    ([{"name": "X", "aliases": ["a", "b"], "alias_counts": [1]}], "E203", 1),
    ([{"name": "X", "alias_counts": [-1], "aliases": ["a"]}], "E203", 1),
    ([{"name": 7}], "E203", 1),
])
def test_kb_import_errors_are_coded_with_line_and_store_nothing(store, tmp_path, rows, code, line):
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, write_jsonl(tmp_path / "kb.jsonl", rows))
    assert e.value.code == code
    assert f"line {line}" in str(e.value)
    assert entity_count(store) == 0


def test_kb_import_bad_json_line_and_bad_bytes(store, tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_bytes(b'{"name": "A"}\n{"name": \n')
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, path)
    assert e.value.code == "E202" and "line 2" in str(e.value)
    path.write_bytes(b'{"name": "A"}\n{"name": "\xff"}\n')
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, path)
    assert e.value.code == "E207" and "line 2" in str(e.value)
    assert entity_count(store) == 0


def test_kb_import_csv_errors(store, tmp_path):
    path = tmp_path / "kb.csv"
    path.write_text("id,label\nQ1,x\n", encoding="utf-8")
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, path)
    assert e.value.code == "E206"
    path.write_text("id,name\nQ1,A\nQ2,B,extra\n", encoding="utf-8")
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, path)
    assert e.value.code == "E203" and "line 3" in str(e.value)
    path.write_text("id,name,aliases,alias_counts\nQ1,A,x|y,1|z\n", encoding="utf-8")
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, path)
    assert e.value.code == "E203" and "line 2" in str(e.value)
    assert entity_count(store) == 0


def test_kb_import_missing_file_and_unknown_suffix(store, tmp_path):
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, tmp_path / "nope.jsonl")
    assert e.value.code == "E200"
    (tmp_path / "kb.txt").write_text("x")
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.import_kb(store, tmp_path / "kb.txt")
    assert e.value.code == "E201"


def test_kb_import_is_atomic_when_the_database_refuses(store, tmp_path):
    """A row that passes the file checks but that the database refuses rolls back every row before it."""
    from sqlalchemy.exc import DatabaseError

    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON aliases WHEN new.text = 'Boom' "
                                 "BEGIN SELECT RAISE(ABORT, 'refused'); END")
        else:
            conn.exec_driver_sql("ALTER TABLE aliases ADD CONSTRAINT refuse CHECK (text <> 'Boom')")
    rows = [{"id": "Q17", "name": "Japan"}, {"id": "Q148", "name": "China", "aliases": ["Boom"]}]
    with pytest.raises(DatabaseError):
        kb_transfer.import_kb(store, write_jsonl(tmp_path / "kb.jsonl", rows))
    assert entity_count(store) == 0


def test_kb_reimport_skips_known_ids_and_reports_conflicts(store, tmp_path):
    kb_transfer.import_kb(store, write_jsonl(tmp_path / "kb.jsonl", SAMPLE))
    changed = [dict(SAMPLE[0], description="changed"), SAMPLE[1], SAMPLE[2],
               {"id": "Q17", "name": "Japan", "type": "GPE"}]
    report = kb_transfer.import_kb(store, write_jsonl(tmp_path / "again.jsonl", changed))
    assert report.added == ["Q17"]
    assert report.skipped == ["Q884", "local:gsomia", "local:kim-kwan-jin"]  # no id: matched by name and type
    assert report.conflicting == ["Q884"]
    with store.Session() as s:
        assert s.scalar(select(Entity.description).where(Entity.kb_id == "Q884")) == "country"  # untouched


@pytest.mark.parametrize("fmt, suffix", [("jsonl", ".jsonl"), ("csv", ".csv")])
def test_kb_export_import_round_trip(store, tmp_path, fmt, suffix):
    from annotator.core.db.store import Store

    rows = SAMPLE + [{"id": "Q1", "name": "Bar | and \\ slash, \"quoted\"", "type": "ORG",
                      "description": "line one\nline two", "aliases": ["a|b", "ünï"], "alias_counts": [2, 1]}]
    kb_transfer.import_kb(store, write_jsonl(tmp_path / "in.jsonl", rows))
    out = tmp_path / ("out" + suffix)
    assert kb_transfer.export_kb(store, fmt, out) == 4
    other = Store(tmp_path / "other.db")
    try:
        report = kb_transfer.import_kb(other, out)
        assert len(report.added) == 4
        with store.Session() as a, other.Session() as b:
            assert list(kb_transfer.entries(a)) == list(kb_transfer.entries(b))
    finally:
        other.close()


def test_kb_export_unknown_format(store, tmp_path):
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.export_kb(store, "xml", tmp_path / "x")
    assert e.value.code == "E208"


def test_kb_ids_maps_entity_ids(store, tmp_path):
    kb_transfer.import_kb(store, write_jsonl(tmp_path / "kb.jsonl", SAMPLE))
    with store.Session() as s:
        ids = {kb_id: id_ for kb_id, id_ in s.execute(select(Entity.kb_id, Entity.id))}
        assert kb.kb_ids(s, [ids["Q884"], ids["local:gsomia"], 999]) == {ids["Q884"]: "Q884",
                                                                         ids["local:gsomia"]: "local:gsomia"}


def test_kb_mint_kb_id_is_unique(store):
    with store.atomic() as s:
        s.add(Entity(kb_id="local:seoul", name="Seoul"))
        s.flush()
        assert kb.mint_kb_id(s, "Seoul") == "local:seoul-2"
        assert kb.mint_kb_id(s, "Seoul", {"local:seoul-2"}) == "local:seoul-3"
        assert kb.mint_kb_id(s, "김관진") == "local:김관진"


def test_kb_starter_loads_the_sample_entities_idempotently(store):
    first = kb_transfer.load_starter(store)
    assert len(first.added) > 50
    again = kb_transfer.load_starter(store)
    assert again.added == [] and len(again.skipped) == len(first.added) and again.conflicting == []
    with store.Session() as s:
        names = set(s.scalars(select(Entity.name)))
        assert {"Kim Kwan-jin", "Naoki Tanaka", "Kim Min-seok", "South Korea", "Japan", "North Korea",
                "General Security of Military Information Agreement", "Acquisition and Cross-Servicing Agreement",
                "United Nations", "Government of South Korea"} <= names
        seoul = set(s.scalars(select(Entity.name).join(Alias).where(Alias.norm == "seoul")))
        assert seoul == {"Seoul", "Government of South Korea"}  # the city, and the government (metonymy)
        gsomia = s.scalar(select(Entity).join(Alias).where(Alias.text == "GSOMIA"))
        assert gsomia.type == "LAW" and gsomia.kb_id.startswith("local:")
        assert s.scalar(select(Entity.kb_id).where(Entity.name == "South Korea")) == "Q884"


@pytest.mark.single_backend
def test_kb_starter_file_is_well_formed():
    from annotator.core.resources import seeds_dir
    from annotator.formats.kb_files import read

    rows = read(seeds_dir() / kb_transfer.STARTER_KB)
    for _, entry in rows:
        assert entry.type in {"GPE", "LOC", "ORG", "PERSON", "NORP", "LAW", "EVENT", "FAC", "PRODUCT"}
        assert entry.description and entry.kb_id
        assert entry.kb_id.startswith("local:") or entry.kb_id[0] == "Q" and entry.kb_id[1:].isdigit()


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("|\\,\"'\n;"), min_size=1,
                max_size=12).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_text, _text, st.lists(st.tuples(_text, st.integers(0, 99)), max_size=4)),
                     min_size=1, max_size=5))
def test_kb_files_round_trip_any_text(tmp_path, rows):
    """Whatever the names hold (bars, backslashes, quotes, commas, newlines), both files read back."""
    from annotator.formats import kb_files
    from annotator.formats.kb_files import KbEntry

    entries = [KbEntry(name=name, kb_id=f"local:{i}", type="ORG", description=desc,
                       aliases=[a for a, _ in aliases], counts=[c for _, c in aliases])
               for i, (name, desc, aliases) in enumerate(rows)]
    for write, suffix in ((kb_files.write_jsonl, ".jsonl"), (kb_files.write_csv, ".csv")):
        path = tmp_path / ("kb" + suffix)
        write(entries, path)
        assert [e for _, e in kb_files.read(path)] == entries
