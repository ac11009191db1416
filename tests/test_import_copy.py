"""Import into a team server by COPY (core/db/bulk.py), on the real throwaway PostgreSQL server: still
one transaction (a bad last line leaves nothing), the same rows and ids as the executemany path, the
sequences moved past the copied ids, and a member's rows still checked by row-level security."""

from __future__ import annotations

import json

import pytest
from factories import new_store, write_jsonl
from sqlalchemy import func, select, text

from annotator.core.db import bulk
from annotator.core.db.models import Document, DocumentState, Span
from annotator.core.db.store import Store
from annotator.core.db.team import add_user
from annotator.core.project import Project
from annotator.errors import AnnotatorError
from annotator.io.importing import BATCH, import_paths

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

TIMES = {"imported_at", "created_at", "updated_at"}  # the clock, not the data


def tasks(n: int) -> list[dict]:
    """n JSONL tasks over more than one batch: spans in two layers, links (new KB ids and NIL), meta
    with non-ASCII text and a backslash (COPY's escapes), duplicates of a span, a tab and a newline."""
    out = []
    for i in range(n):
        body = f"Président {i} met\tthe Seoul\\Tokyo envoys.\nTalks went on."
        spans = [{"start": 0, "end": 9, "label": "PERSON", "kb_id": f"Q{i % 7}"},
                 {"start": 18, "end": 23, "label": "GPE"}, {"start": 18, "end": 23, "label": "GPE"},
                 {"start": 24, "end": 29, "label": "GPE", "kb_id": "NIL"}]
        out.append({"text": body, "meta": {"name": f"d{i}", "source": "fil\\é", "n": i},
                    "_annotator_id": "ana" if i % 2 else "bob", "spans": spans})
    return out


def rows(store) -> dict[str, list[tuple]]:
    """Every stored row of the tables an import fills, in id order, without the timestamps."""
    out = {}
    with store.Session() as s:
        for model in (Document, Span, DocumentState):
            table = model.__table__
            cols = [c for c in table.c if c.name not in TIMES]
            out[table.name] = [tuple(r) for r in s.execute(select(*cols).order_by(*table.primary_key.columns))]
        out["entities"] = [tuple(r) for r in s.execute(text("SELECT id, kb_id, name, type FROM entities ORDER BY id"))]
        out["aliases"] = [tuple(r) for r in s.execute(text("SELECT entity_id, text, count FROM aliases ORDER BY id"))]
    return out


def test_copy_gives_the_same_rows_and_ids_as_executemany(tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "a.jsonl", tasks(BATCH + 300))
    again = write_jsonl(tmp_path / "b.jsonl", [{"text": "A second import, later.", "meta": {"name": "late"}}])
    copied = new_store(tmp_path / "c.db")
    with copied.engine.connect() as conn:
        assert bulk.uses_copy(conn, Span.__table__)  # the owner: COPY
    for p in (path, again):
        import_paths(copied, [p], use_model=False)
    monkeypatch.setattr(bulk, "COPY", False)
    inserted = new_store(tmp_path / "i.db")
    for p in (path, again):
        import_paths(inserted, [p], use_model=False)
    ours, theirs = rows(copied), rows(inserted)
    assert len(ours["documents"]) == BATCH + 301 and len(ours["spans"]) == 3 * (BATCH + 300)
    assert ours["documents"][-1][0] == BATCH + 301  # the second import's id follows the copied ones
    assert ours == theirs
    # the window's next edit gets fresh ids from the sequences COPY used
    project = Project(copied, "carol")
    project.open_document(ours["documents"][0][0])
    assert project.add_span(ours["documents"][0][0], 10, 12, "ORG") == len(ours["spans"]) + 1


def test_copy_import_with_a_bad_last_line_leaves_nothing(tmp_path):
    lines = [json.dumps(t) for t in tasks(2 * BATCH + 5)] + ['{"text": broken}']
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = new_store(tmp_path / "p.db")
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [path], use_model=False)
    assert e.value.code == "E015" and f"line {2 * BATCH + 6}" in str(e.value)
    with store.Session() as s:
        assert [s.scalar(select(func.count()).select_from(m)) for m in (Document, Span, DocumentState)] == [0, 0, 0]
        assert s.scalar(text("SELECT count(*) FROM entities")) == 0


def test_a_members_import_is_checked_row_by_row_not_copied(tmp_path, pg_cluster):
    """COPY FROM bypasses no policy (PostgreSQL refuses it under row-level security): a member's rows
    go in by INSERT, and the policies still refuse spans in someone else's layer."""
    owner = new_store(tmp_path / "p.db")
    add_user(owner, "ana", "annotator", by="admin")
    database = owner.engine.url.database
    member = Store(pg_cluster.url(database, user="ana"))
    try:
        with member.engine.connect() as conn:
            assert not bulk.uses_copy(conn, Span.__table__)
        path = write_jsonl(tmp_path / "bob.jsonl", [{"text": "Seoul said so.", "_annotator_id": "bob",
                                                     "spans": [{"start": 0, "end": 5, "label": "GPE"}]}])
        with pytest.raises(AnnotatorError) as e:
            import_paths(member, [path], use_model=False)
        assert e.value.code == "E401"
    finally:
        member.close()
    with owner.Session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


def test_a_server_lost_during_copy_is_the_coded_error_and_stores_nothing(tmp_path, pg_cluster):
    """The import's connection is ended by the server after its first batch went in by COPY: the next
    batch fails, said as E400 (as an INSERT's failure is), and the first batch is not there."""
    path = write_jsonl(tmp_path / "a.jsonl", tasks(2 * BATCH))
    store = new_store(tmp_path / "p.db")
    database = store.engine.url.database

    def end_the_import(done, _total):
        if done == BATCH + 1:
            with pg_cluster.connect(database) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND "
                              "pid <> pg_backend_pid() AND state = 'idle in transaction'", (database,))

    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [path], use_model=False, progress=end_the_import)
    assert e.value.code == "E400"
    with store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


def test_copy_import_of_more_documents_than_the_servers_lock_table_holds(tmp_path):
    """Regression: provenance took one advisory lock per document, all held to the end of the one
    transaction, and an import of 10,000 documents failed with "out of shared memory" (on the test
    server 8,000 fit, 20,000 did not). Both a new corpus and a second layer on each of its documents."""
    n = 20000
    first = write_jsonl(tmp_path / "a.jsonl", [
        {"text": f"Talks {i} in Oslo.", "meta": {"name": f"d{i}"}, "_annotator_id": "ana",
         "spans": [{"start": len(f"Talks {i} in "), "end": len(f"Talks {i} in Oslo"), "label": "GPE"}]}
        for i in range(n)])
    again = write_jsonl(tmp_path / "b.jsonl", [
        {"text": f"Talks {i} in Oslo.", "meta": {"name": f"d{i}"}, "_annotator_id": "bob", "spans": []}
        for i in range(n)])
    store = new_store(tmp_path / "c.db")
    first_report = import_paths(store, [first], use_model=False)
    second_report = import_paths(store, [again], use_model=False)
    assert len(first_report.added) == n and len(second_report.layered) == n
    with store.Session() as s:
        assert s.scalar(select(func.count()).select_from(DocumentState)) == 2 * n
        assert s.execute(text("SELECT sum(added) FROM provenance_counts")).scalar() == n  # ana's, counted


def test_a_big_import_refreshes_the_servers_statistics(tmp_path):
    """Regression: after a big import the planner estimated the new rows from the statistics of the
    empty tables until autovacuum came by, and a search by label walked every span of the label (60 ms
    instead of 1 ms at 3,000 documents). An import of ANALYZE_AFTER documents or more analyzes the tables
    it filled, once committed; a small one leaves it to autovacuum."""
    store = new_store(tmp_path / "c.db")
    small = write_jsonl(tmp_path / "s.jsonl", [{"text": f"Talks {i} in Oslo.", "meta": {"name": f"s{i}"}}
                                               for i in range(10)])
    import_paths(store, [small], use_model=False)

    def analyzed() -> set[str]:
        with store.engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")}

    assert not analyzed() & set(bulk.LOADED)
    big = write_jsonl(tmp_path / "b.jsonl", tasks(bulk.ANALYZE_AFTER))
    import_paths(store, [big], use_model=False)
    assert analyzed() >= set(bulk.LOADED)
