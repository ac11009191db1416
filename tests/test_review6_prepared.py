"""Review measurement: do span-filter statements prepared through psycopg (core/db/driver.py) outlive
the session that ran them? SQLAlchemy's pool rolls a connection back when it is returned, and psycopg's
rollback() clears its prepared-statement cache and sends DEALLOCATE ALL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from annotator.core.project import Project
from annotator.core.search import Filters, search
from annotator.io.importing import import_records
from annotator.core.records import DocRecord, SpanRecord

BACKENDS = ("postgresql",)


@pytest.mark.xfail(strict=True, reason="finding: the pool's rollback on return deallocates them")
def test_span_filter_statements_stay_prepared_for_the_next_search(store):
    import_records(store, [DocRecord(name="a", text="Seoul and Seoul.", spans=[SpanRecord(0, 5, "GPE"),
                                                                              SpanRecord(10, 15, "GPE")])],
                   use_model=False, as_layer="lee")
    lee = Project(store, "lee")
    assert len(lee.search(filters=Filters(label="GPE"), layer="lee")) == 2
    with store.engine.connect() as conn:  # the pool's one connection, back from the search
        left = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    print("prepared statements left on the connection after the search:", left)
    assert left > 0, "prepared on first run, deallocated when the session ended: never reused"


def test_within_one_session_they_are_prepared(store):
    """The control: inside the search's own session the statements are there."""
    import_records(store, [DocRecord(name="a", text="Seoul and Seoul.", spans=[SpanRecord(0, 5, "GPE"),
                                                                              SpanRecord(10, 15, "GPE")])],
                   use_model=False, as_layer="lee")
    lee = Project(store, "lee")
    with store.Session() as s:
        pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
        assert len(search(s, lee.annotator_id, filters=Filters(label="GPE"), layer="lee")) == 2
        inside = s.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    with store.engine.connect() as conn:
        same = conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid
        after = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    print("inside:", inside, "same connection:", same, "after:", after)
    assert inside > 0 and same and after == 0
