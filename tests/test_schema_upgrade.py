"""Opening a project made by an older annotator: refused with E005 until the user agrees, then
upgraded through Alembic (an SQLite file backed up first) without losing a row.

`data/project-0001.db` was made at the oldest schema (revision 0001) by `data/make_project_0001.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from annotator.cli import main
from annotator.core.db import edit_seconds, provenance_counts, schema
from annotator.core.db.models import AgreementPair, AgreementStale, Annotator, DocumentState, ProvenanceCount
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.core.review.agreement import compute
from annotator.core.review.inputs import agreement_inputs, project_agreement
from annotator.core.review.provenance import provenance, recount
from annotator.core.text import title_of
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records

OLD = Path(__file__).parent / "data" / "project-0001.db"
TABLES = ("annotators", "labels", "documents", "model_runs", "entities", "aliases", "spans", "document_states",
          "events")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of the 0001 tables (only the given columns, if any), in id order."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        out = {}
        for table in TABLES:
            cols = columns[table] if columns else [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            out[table] = conn.execute(f"SELECT {', '.join(f'{c!r}' for c in cols)} FROM {table} "
                                      "ORDER BY 1, 2").fetchall()
        return out
    finally:
        conn.close()


@pytest.fixture
def old(tmp_path) -> Path:
    path = tmp_path / "old.db"
    shutil.copy(OLD, path)
    return path


def cli(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), "--user", "ana", *args], catch_exceptions=False)


def test_schema_upgrade_the_committed_file_is_at_the_oldest_revision():
    assert schema.REVISIONS[0] == "0001" and schema.HEAD != "0001"
    conn = sqlite3.connect(f"{OLD.as_uri()}?immutable=1", uri=True)  # no -wal/-shm beside the committed file
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    conn.close()


def test_schema_upgrade_an_older_file_is_refused_untouched(old):
    before = digest(old)
    with pytest.raises(AnnotatorError) as e:
        Store(old)
    assert e.value.code == "E005" and "annotator db upgrade" in str(e.value)
    assert digest(old) == before
    result = cli(old, "stats")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: [E005] ") and "`annotator db upgrade`" in result.stderr
    assert digest(old) == before


def test_schema_upgrade_made_meanwhile_by_another_process_is_not_this_ones(old, monkeypatch):
    """Another `annotator db upgrade` upgrades the file after this one read its revision: this one
    waits for its write lock, finds the file current, and does not report an upgrade it did not make."""
    real = schema.migrate
    other: list[subprocess.CompletedProcess] = []

    def meanwhile(store, *args, **kwargs):
        root = Path(__file__).resolve().parents[1]
        other.append(subprocess.run([sys.executable, "-m", "annotator", "--db", str(old), "db", "upgrade"],
                                    capture_output=True, text=True, cwd=root, timeout=300,
                                    env={**os.environ, "PYTHONPATH": str(root)}))
        return real(store, *args, **kwargs)

    monkeypatch.setattr(schema, "migrate", meanwhile)
    store = Store(old, upgrade=True)
    store.close()
    assert other[0].returncode == 0, other[0].stderr
    assert other[0].stdout.startswith(f"Upgraded {old} from schema 0001")
    assert store.schema.action == "current" and store.schema.revision == schema.HEAD
    again = Store(old)
    assert again.execute("SELECT version_num FROM alembic_version") == [(schema.HEAD,)]
    again.close()


def test_schema_upgrade_through_the_cli_keeps_every_row_and_a_backup(old):
    rows_before = dump(old)
    columns = {t: [r[1] for r in sqlite3.connect(old).execute(f"PRAGMA table_info({t})")] for t in TABLES}
    result = cli(old, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Upgraded {old} from schema 0001 to {schema.HEAD}. Backup: ")
    backup = Path(result.stdout.split("Backup: ")[1].strip())
    assert backup.parent == old.parent and backup.name.startswith(f"old.before-{schema.HEAD}-")
    assert dump(backup) == rows_before  # the backup is the old project as it was
    assert dump(old, columns) == rows_before  # and nothing was lost on the way up
    assert cli(old, "db", "upgrade").stdout == f"{old} is already at schema {schema.HEAD}; nothing to do.\n"

    store = Store(old)
    try:
        assert store.schema.action == "current"
        ana = Project(store, "ana")
        assert [(d.name, d.status, d.spans) for d in ana.documents()] == [("a1", "done", 3), ("a2", "in_progress", 2)]
        assert ana.stack.undo_text == "mark done"  # the history of the old file still undoes
        ana.stack.undo()
        assert ana.documents()[0].status == "in_progress"
        found = ana.search_entities("Kim Kwan-jn")  # a typo: the search index was built for the old rows
        assert found and found[0].kb_id == "local:kim"
        spans = ana.spans(1)
        ana.relabel(spans[-1].id, "PERSON")  # editing works on the upgraded file
        assert ana.span(spans[-1].id).label == "PERSON"
    finally:
        store.close()


def test_schema_upgrade_0005_indexes_the_old_documents_for_search(old):
    """0005 builds the document text index for the rows already there; later imports join it."""
    assert cli(old, "db", "upgrade").exit_code == 0
    conn = sqlite3.connect(old)
    assert conn.execute("SELECT rowid FROM document_fts WHERE document_fts MATCH '\"silent 😀\"'").fetchall() == [(2,)]
    conn.close()
    result = cli(old, "search", "seoul", "--json")
    assert [(h["document"], h["start"], h["match"]) for h in json.loads(result.stdout)] == [("a1", 33, "Seoul"),
                                                                                           ("a2", 0, "Seoul")]
    store = Store(old)
    try:
        import_records(store, [DocRecord("a3", "Later news from Seoul.")], use_model=False)
        assert store.execute("SELECT rowid FROM document_fts WHERE document_fts MATCH 'later news'") == [(3,)]
    finally:
        store.close()


def test_schema_upgrade_a_postgresql_database(pg_cluster):
    name = pg_cluster.create_database()
    url = pg_cluster.url(name)
    engine = create_engine(url)
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=False), "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO annotators (id, name, role, is_model) VALUES (7, 'ana', 'annotator', false)"))
    engine.dispose()
    with pytest.raises(AnnotatorError) as e:
        Store(url)
    assert e.value.code == "E005"
    result = cli(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Upgraded {url} from schema 0001 to {schema.HEAD}.\n"
    store = Store(url)
    try:
        assert store.execute("SELECT id, name FROM annotators") == [(7, "ana")]
    finally:
        store.close()
    pg_cluster.drop_database(name)


def test_schema_upgrade_db_init_creates_a_project_once(tmp_path):
    db = tmp_path / "new.db"
    assert cli(db, "db", "init").stdout == f"Created a new project in {db} (schema {schema.HEAD}).\n"
    assert cli(db, "db", "init").stdout == f"{db} is already a project at schema {schema.HEAD}; nothing to do.\n"


@pytest.mark.parametrize("agree", [True, False])
def test_schema_upgrade_the_window_asks_first(old, qtbot, monkeypatch, agree):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from annotator.ui import qt_app

    before = digest(old)
    asked = []

    def answer():
        box = QApplication.activeModalWidget()
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Yes if agree else QMessageBox.StandardButton.No).click()

    QTimer.singleShot(100, answer)
    if not agree:
        with pytest.raises(AnnotatorError) as e:
            qt_app.launch(old, "ana", import_seeds=False)
        assert e.value.code == "E005" and digest(old) == before
    else:
        window = qt_app.launch(old, "ana", import_seeds=False)
        qtbot.addWidget(window)
        assert [d.name for d in window.documents.model.docs] == ["a1", "a2"]
        message = window.statusBar().currentMessage()
        assert message.startswith(f"Upgraded the project from schema 0001 to {schema.HEAD}; the file as it was")
        assert Path(message.split(" is kept as ")[1].rstrip(".")).exists()  # the backup
        window.close()
        window.project.store.close()
    assert len(asked) == 1 and "[E005]" in asked[0] and "Upgrade it now?" in asked[0]


def test_schema_upgrade_0007_an_old_project_gets_guidelines(old, tmp_path):
    """0007 adds project_settings to a file made at 0001: the upgraded project keeps its rows and
    carries guidelines from then on."""
    before = {table: len(rows) for table, rows in dump(old).items()}
    assert cli(old, "db", "upgrade").exit_code == 0
    assert {table: len(rows) for table, rows in dump(old).items()} == before
    guide = tmp_path / "g.md"
    guide.write_text("# Rules\n\n## PERSON\n\nPeople.\n", encoding="utf-8")
    store = Store(str(old))
    try:
        Project(store, "rev", role="reviewer")
    finally:
        store.close()
    result = CliRunner().invoke(main, ["--db", str(old), "--user", "rev", "guidelines", "set", str(guide)])
    assert result.exit_code == 0, result.output
    assert cli(old, "guidelines", "show").stdout == "# Rules\n\n## PERSON\n\nPeople.\n"


def test_schema_upgrade_0011_counts_the_provenance_of_an_old_project_once(old):
    """The layers ana changed before the upgrade count in the stored provenance right away."""
    store = Store(old, upgrade=True)
    try:
        with store.Session() as s:
            stored = provenance(s)
            assert stored == recount(s) and stored["ana"]["documents"] == 2
            assert sum(stored["ana"]["totals"].values()) >= 5  # every span of ana's layer is an outcome
            assert s.scalar(select(func.count()).select_from(ProvenanceCount)) > 0
    finally:
        store.close()


def schema_of(path: Path, tables=("spans", "entities", "aliases")) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name IN (?, ?, ?) AND sql IS NOT NULL",
                                 tables).fetchall())
    finally:
        conn.close()


def test_schema_upgrade_0012_ids_are_never_given_twice_and_the_rest_is_kept(old, tmp_path):
    """0012 rebuilds spans, entities and aliases as AUTOINCREMENT tables: every row keeps its id, the
    tables end up as a new project's (indexes, the alias search triggers, foreign keys), and the
    alias search index still finds the old rows."""
    before = dump(old)
    columns = {t: [r[1] for r in sqlite3.connect(old).execute(f"PRAGMA table_info({t})")] for t in TABLES}
    assert cli(old, "db", "upgrade").exit_code == 0
    assert dump(old, columns) == before  # every row, with its id
    new = tmp_path / "new.db"
    Store(new).close()
    upgraded = schema_of(old)
    assert upgraded == schema_of(new)  # the same tables, indexes and triggers as a new project's
    assert all("PRIMARY KEY AUTOINCREMENT" in upgraded[t] for t in ("spans", "entities", "aliases"))
    assert {"aliases_fts_insert", "aliases_fts_delete", "aliases_fts_update", "ix_spans_document_layer",
            "ix_spans_layer_counts", "ix_spans_entity", "ix_aliases_norm_count"} <= set(upgraded)
    conn = sqlite3.connect(old)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert [r[0] for r in conn.execute("SELECT rowid FROM alias_fts WHERE alias_fts MATCH 'kwan'")] == [
        r[0] for r in conn.execute("SELECT id FROM aliases WHERE norm LIKE '%kwan%' ORDER BY id")]
    conn.close()
    store = Store(old)
    try:
        assert store.execute("PRAGMA foreign_keys") == [(1,)]  # on again after the rebuild
        ana = Project(store, "ana")
        found = ana.search_entities("Kim Kwan-jn")
        assert found and found[0].kb_id == "local:kim"
        gone = ana.spans(1)[0].id  # a removed entity still unlinks its spans (ON DELETE SET NULL kept)
        with store.atomic() as s:
            s.execute(text("UPDATE spans SET entity_id = (SELECT id FROM entities LIMIT 1) WHERE id = :i"), {"i": gone})
            s.execute(text("DELETE FROM entities WHERE id = (SELECT id FROM entities LIMIT 1)"))
        assert ana.span(gone).entity_id is None
    finally:
        store.close()


def test_schema_upgrade_0012_a_span_deleted_before_the_upgrade_keeps_its_id(old, monkeypatch):
    """ana deleted the newest span on a project at 0011; after the upgrade bob's new span must not take
    its id (the counter starts above what the history mentions), so ana's undo still puts it back."""
    engine = create_engine(f"sqlite:///{old}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0011")
    with engine.begin() as conn:  # this version's span rows have 0018's column: there while ana works only
        conn.exec_driver_sql("ALTER TABLE spans ADD COLUMN link_source VARCHAR(16)")
    with monkeypatch.context() as m:
        m.setattr(schema, "HEAD", "0011")  # an annotator of before 0012
        m.setattr(provenance_counts, "queue_agreement", lambda s, docs: None)  # nor the tables of 0014
        m.setattr(edit_seconds, "record", lambda s, ids: None)  # and 0015
        store = Store(old)
        ana = Project(store, "ana")
        newest = max(s.id for d in (1, 2) for s in ana.spans(d))
        ana.delete_span(newest)
        store.close()
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE spans DROP COLUMN link_source")
    engine.dispose()
    store = Store(old, upgrade=True)
    try:
        assert store.schema.before == "0011"
        bob = Project(store, "bob")
        theirs = bob.add_span(1, 0, 5, "LAW")
        assert theirs > newest
        ana = Project(store, "ana")
        ana.stack.undo()
        assert ana.span(newest) is not None and bob.span(theirs) is not None
    finally:
        store.close()


def test_schema_upgrade_that_fails_midway_leaves_the_file_as_it_was(old):
    """An upgrade is one transaction on SQLite too: the driver begins only at the first write, so a
    table the migration created before it (0012's copy of a table) used to stay after a failure, and
    every retry then failed on it. Here 0012 fails at its rename (a view of the old table); after the
    failure the file is at 0011 with no copy left, and once the view is gone the upgrade goes through."""
    engine = create_engine(f"sqlite:///{old}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0011")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE VIEW entity_names AS SELECT name FROM entities")
    before = dump(old)
    with pytest.raises(Exception):
        schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0012")
    with engine.connect() as conn:
        tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0011"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the edits that follow
    assert not {t for t in tables if t.startswith("_new_")} and dump(old) == before
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP VIEW entity_names")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0012")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0012"
    engine.dispose()


def test_schema_upgrade_0014_queues_the_agreement_of_an_old_project(old):
    """The upgrade queues every document a layer holds; the first agreement counts them and equals the
    full computation, and leaves the queue empty."""
    store = Store(old, upgrade=True)
    try:
        with store.Session() as s:
            assert s.scalar(select(func.count()).select_from(AgreementStale)) == 2
            d = s.scalar(select(DocumentState.document_id).where(DocumentState.status == "done"))
        bob = Project(store, "bob")
        bob.open_document(d)
        bob.accept(bob.add_span(d, 0, 4, "GPE"))
        bob.set_status(d, "done")
        report = project_agreement(store, status="all")
        with store.Session() as s:
            assert report.to_json() == compute(*agreement_inputs(s, None, "all")).to_json()
            assert report.overall.n_docs == 1
            assert s.scalar(select(func.count()).select_from(AgreementStale)) == 0
            assert s.scalar(select(func.count()).select_from(AgreementPair)) == 3  # two layers and their pair
    finally:
        store.close()


def test_schema_upgrade_0015_keeps_the_time_of_an_old_project_and_adds_to_it(old, monkeypatch):
    """The upgrade fills the time per person and day from the old history once; an edit afterwards
    adds its gap from the old events of the same document and day."""
    store = Store(old, upgrade=True)
    try:
        with store.Session() as s:
            ana = s.scalar(select(Annotator.id).where(Annotator.name == "ana"))
            assert edit_seconds.stored(s) == edit_seconds.reference(s) == {(ana, "2025-03-01"): 0}
        monkeypatch.setattr("annotator.core.editing.stack.utcnow",
                            lambda: datetime(2025, 3, 1, 9, 31, 30, tzinfo=timezone.utc))
        project = Project(store, "ana")
        project.add_span(1, 0, 3, "LAW")
        with store.Session() as s:
            assert edit_seconds.stored(s) == edit_seconds.reference(s) == {(ana, "2025-03-01"): 90_000_000}
    finally:
        store.close()


def add_rows(path: Path, table: str, like: str, rows: list[dict]) -> None:
    """Rows written as an annotator at that revision would have: a copy of the row `like` selects, with
    the given columns changed."""
    conn = sqlite3.connect(path)
    with conn:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "id"]
        for row in rows:
            picked = ", ".join("?" if c in row else f'"{c}"' for c in cols)
            conn.execute(f"INSERT INTO {table} ({', '.join(f'{c!r}' for c in cols)}) SELECT {picked} FROM {table} "
                         f"WHERE {like} LIMIT 1", [row[c] for c in cols if c in row])
    conn.close()


def test_schema_upgrade_0011_counts_with_its_own_rule_not_the_live_code(old, monkeypatch):
    """0011 fills the provenance of a project made at 0010 with the rule frozen in the migration: a later
    change to the live counting (here: a comparison that finds nothing) does not change what the
    upgrade writes, and what it writes is what the live count gives for every document and analyst."""
    engine = create_engine(f"sqlite:///{old}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0010")
    span = lambda a, d, start, end, label, status="accepted": dict(  # noqa: E731
        annotator_id=a, document_id=d, start=start, end=end, label=label, status=status)
    add_rows(old, "spans", "id = 1", [span(1, 2, 0, 5, "GPE", "suggested"), span(1, 2, 10, 20, "ORG", "suggested"),
                                      span(1, 2, 30, 40, "PERSON", "suggested"), span(1, 2, 52, 60, "LAW", "suggested"),
                                      span(2, 2, 10, 20, "PERSON"), span(2, 2, 32, 45, "PERSON"),
                                      span(3, 1, 0, 12, "PERSON", "suggested")])
    add_rows(old, "document_states", "document_id = 1", [dict(annotator_id=3, status="in_progress")])
    with monkeypatch.context() as m:
        m.setattr(provenance_counts, "compare", lambda model, analyst: [])  # the live code, changed since
        schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0011")
    with engine.connect() as conn:
        stored = {(d, a, label): tuple(row) for d, a, label, *row in conn.exec_driver_sql(
            f"SELECT document_id, annotator_id, label, {', '.join(provenance_counts.OUTCOMES)} FROM provenance_counts")}
        totals = {(a, label): tuple(row) for a, label, *row in conn.exec_driver_sql(
            f"SELECT annotator_id, label, {', '.join(provenance_counts.OUTCOMES)} FROM provenance_totals")}
    with Session(bind=engine) as s:
        live = provenance_counts.count(s, [1, 2])
    engine.dispose()
    assert stored == live
    summed = {}
    for (_, a, label), row in live.items():
        summed[a, label] = tuple(x + y for x, y in zip(summed.get((a, label), (0,) * 6), row))
    assert totals == summed
    outcomes = {o for row in live.values() for o, n in zip(provenance_counts.OUTCOMES, row) if n}
    assert outcomes == set(provenance_counts.OUTCOMES)  # every kind of outcome was counted
    assert {a for _, a, _ in live} == {2, 3}  # the analysts, not the model


def test_schema_upgrade_0015_fills_the_time_with_its_own_rule_not_the_live_code(old, monkeypatch):
    """0015 fills the time per person and day of a project made at 0014 with the rule frozen in the
    migration: a later change to the live rule (here: gaps capped at 60 s instead of 300 s) does not
    change what the upgrade writes, and what it writes is what the live rule of today gives."""
    engine = create_engine(f"sqlite:///{old}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0014")
    event = lambda a, d, at: dict(annotator_id=a, document_id=d, created_at=f"2025-03-{at}.000000")  # noqa: E731
    add_rows(old, "events", "id = 1", [
        event(2, 1, "01 09:32:00"),  # 120 s after the old ones: over the changed cap, under the frozen one
        event(2, 1, "01 09:42:30"),  # 630 s: 300 s
        event(2, 2, "01 09:43:00"),  # another document: its first
        event(2, 2, "01 09:42:59"),  # a merged event written after a later one: 0 s
        event(2, None, "01 09:44:00"),  # no document: nothing
        event(3, 2, "02 23:59:58"), event(3, 2, "03 00:00:01"),  # two days: each its first
        event(3, 2, "03 00:00:04"),  # 3 s
    ])
    with monkeypatch.context() as m:
        m.setattr(edit_seconds, "GAP_CAP", 60)  # the live rule, changed since
        m.setattr(edit_seconds, "_CAP_US", 60_000_000)
        schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0015")
    with Session(bind=engine) as s:
        kept, live = edit_seconds.stored(s), edit_seconds.reference(s)
    engine.dispose()
    assert kept == live
    seconds = {k: round(us / 1e6) for k, us in kept.items()}  # julianday is exact to some 50 µs
    assert seconds == {(2, "2025-03-01"): 420, (3, "2025-03-02"): 0, (3, "2025-03-03"): 3}


def test_schema_upgrade_0019_shortens_titles_that_are_a_whole_line_of_the_text(old):
    """A one-line text's title was the text; 0019 cuts it after a word with "…". A title a file gave
    (not the first line of its text) and a short one stay as they were."""
    engine = create_engine(f"sqlite:///{old}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0018")
    line = "Officials in Seoul said on Tuesday that the talks would resume " * 20
    given = "A title a file gave, " * 20
    with engine.begin() as conn:
        conn.execute(text("UPDATE documents SET text = :t, title = :title WHERE id = 1"),
                     {"t": f"  {line}  \nsecond line", "title": line.strip()})
        conn.execute(text("UPDATE documents SET text = :t, title = :title WHERE id = 2"), {"t": line, "title": given})
        before = dict(conn.execute(text("SELECT id, title FROM documents WHERE id > 2")).all())
    engine.dispose()
    store = Store(old, upgrade=True)
    try:
        with store.Session() as s:
            titles = dict(s.execute(text("SELECT id, title FROM documents")).all())
        assert titles[1] == title_of(line) and titles[1].endswith("…") and len(titles[1]) <= 120
        assert titles[2] == given
        assert {i: t for i, t in titles.items() if i > 2} == before
    finally:
        store.close()
