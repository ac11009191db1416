"""Integer columns read as numpy arrays in one scan: agreement's inputs (spans) and its stored
counts (core/review/pooled.py) are 10^5–10^7 rows, too many for a Python object per value."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session


def int_columns(session: Session, cols, where) -> list[np.ndarray]:
    """Integer-valued columns of the rows matching `where`, as int64 arrays, in one scan.

    SQLite gets each column as one comma-joined string (one C pass, no Python object per value);
    other databases fetch rows."""
    if session.get_bind().dialect.name == "sqlite":
        texts = session.execute(select(*(func.group_concat(c) for c in cols)).where(where)).one()
        return [np.array([], np.int64) if t is None else np.fromstring(t, dtype=np.int64, sep=",")
                for t in texts]
    rows = session.execute(select(*cols).where(where)).all()
    return [np.array(c, np.int64) for c in zip(*rows)] if rows else [np.array([], np.int64) for _ in cols]
