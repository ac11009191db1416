"""Make `project-0001.db`: a small project file at the OLDEST schema (revision 0001), to test upgrades.

The schema comes from running Alembic up to 0001 only; the rows go in through the tables reflected
from that file (not the ORM models, which follow the newest schema), so this script keeps working as
the schema grows. Run: `python tests/data/make_project_0001.py` (overwrites the file).
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import MetaData, create_engine, event, insert

from annotator.core.db import schema
from annotator.core.db.store import APPLICATION_ID, _sqlite_pragmas
from annotator.core.text import pack_tokens

OUT = Path(__file__).parent / "project-0001.db"
WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
TEXTS = {
    "a1": "Kim Kwan-jin met Naoki Tanaka in Seoul. Japan and South Korea signed GSOMIA.",
    "a2": "Seoul is pursuing the pacts, said Kim Kwan-jin. 東京 was silent 😀.",
}


def main() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(OUT) + suffix).unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{OUT}")
    event.listen(engine, "connect", _sqlite_pragmas)
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0001")
    t = MetaData()
    t.reflect(engine)
    with engine.begin() as conn:
        ins = lambda table, rows: conn.execute(insert(t.tables[table]), rows)  # noqa: E731
        ins("annotators", [dict(id=1, name="model", role="annotator", is_model=True),
                           dict(id=2, name="ana", role="annotator", is_model=False),
                           dict(id=3, name="rev", role="reviewer", is_model=False)])
        ins("labels", [dict(id=i + 1, name=n, colour=c, shortcut=str(i + 1), description="", position=i)
                       for i, (n, c) in enumerate([("PERSON", "#0072B2"), ("GPE", "#E69F00"), ("LAW", "#009E73")])])
        ins("documents", [dict(id=i + 1, name=name, title=text[:30], text=text,
                               text_sha256=f"{i:064d}", meta={"source": "test"}, imported_at=WHEN,
                               tokens=pack_tokens((m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)))
                          for i, (name, text) in enumerate(TEXTS.items())])
        ins("model_runs", [dict(id=1, model_name="en_core_web_sm", model_version="3.8.0", created_at=WHEN)])
        ins("entities", [dict(id=1, kb_id="local:kim", name="Kim Kwan-jin", type="PERSON",
                              description="South Korean defence minister", created_by=2, created_at=WHEN, version=1),
                         dict(id=2, kb_id="Q8684", name="Seoul", type="GPE", description="capital",
                              created_by=None, created_at=WHEN, version=3)])
        ins("aliases", [dict(id=1, entity_id=1, text="Kim Kwan-jin", norm="kim kwan-jin", count=2),
                        dict(id=2, entity_id=1, text="Kim", norm="kim", count=0),
                        dict(id=3, entity_id=2, text="Seoul", norm="seoul", count=1)])
        a1, a2 = TEXTS["a1"], TEXTS["a2"]
        span = lambda i, doc, who, text, s, label, **kw: dict(  # noqa: E731
            dict(id=i, document_id=doc, annotator_id=who, start=s, end=s + len(label[1]), label=label[0],
                 entity_id=None, nil=False, referent_note="", origin="human", status="accepted", model_run_id=None,
                 created_at=WHEN, updated_at=WHEN, version=1), **kw)
        ins("spans", [
            span(1, 1, 1, a1, 0, ("PERSON", "Kim Kwan-jin"), origin="model", status="suggested", model_run_id=1),
            span(2, 1, 2, a1, 0, ("PERSON", "Kim Kwan-jin"), entity_id=1, version=2),
            span(3, 1, 2, a1, a1.index("Seoul"), ("GPE", "Seoul"), entity_id=2),
            span(4, 1, 2, a1, a1.index("GSOMIA"), ("LAW", "GSOMIA"), nil=True),
            span(5, 2, 2, a2, 0, ("GPE", "Seoul"), entity_id=2, referent_note="the government"),
            span(6, 2, 2, a2, a2.index("東京"), ("GPE", "東京"), status="suggested", origin="propagated"),
        ])
        ins("document_states", [dict(document_id=1, annotator_id=2, status="done", seconds_spent=42.5, updated_at=WHEN),
                                dict(document_id=2, annotator_id=2, status="in_progress", seconds_spent=3.0,
                                     updated_at=WHEN)])
        ins("events", [dict(id=1, annotator_id=2, document_id=1, created_at=WHEN, command="link_span", undone=False,
                            payload={"span_id": 2, "changes": {"entity_id": 1, "nil": False, "status": "accepted"},
                                     "document_id": 1, "before": {"entity_id": None, "nil": False,
                                                                  "status": "accepted"},
                                     "learned": [{"alias_id": 1, "delta": 1, "created": False}],
                                     "entity_name": "Kim Kwan-jin"}),
                       dict(id=2, annotator_id=2, document_id=1, created_at=WHEN, command="set_document_status",
                            undone=False, payload={"document_id": 1, "annotator_id": 2, "status": "done",
                                                   "before": "in_progress"})])
        conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    check = sqlite3.connect(f"{OUT.as_uri()}?mode=ro", uri=True)  # checkpointed: the file alone is the project
    assert check.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    check.close()
    assert Path(str(OUT) + "-wal").stat().st_size == 0
    for suffix in ("-wal", "-shm"):
        Path(str(OUT) + suffix).unlink(missing_ok=True)
    print(f"Wrote {OUT}")


if __name__ == "__main__":
    main()
