"""Small builders shared by the core tests: fresh projects on real SQLite files, or on fresh
databases of the throwaway PostgreSQL server when a module runs on both backends (`BACKENDS`)."""

from __future__ import annotations

import json
from pathlib import Path

from annotator.core.db.store import Store
from annotator.core.resources import seeds_dir
from annotator.io.importing import import_paths

_pg = None  # the PgCluster while a test runs on PostgreSQL
_template: dict = {}  # cluster root -> a database at the current schema, copied for each new store
_opened: list[Store] = []
_dbs: list[str] = []


def use_postgres(cluster) -> None:
    global _pg
    _pg = cluster


def new_db(path: Path) -> str:
    """Where a new, empty project goes: the SQLite file `path`, or (on PostgreSQL) the URL of a new
    database at the current schema (dropped when the test ends)."""
    if _pg is None:
        return str(path)
    if _pg.root not in _template:
        _template[_pg.root] = _pg.create_database("template")
        Store(_pg.url(_template[_pg.root])).close()
    name = _pg.create_database(template=_template[_pg.root])
    _dbs.append(name)
    return _pg.url(name)


def new_store(path: Path, **kwargs) -> Store:
    """A new, empty project (see `new_db`), closed when the test ends."""
    store = Store(new_db(path), **kwargs)
    _opened.append(store)
    return store


def reopen(store: Store, **kwargs) -> Store:
    """A second, independent connection to the same project (another desktop), closed when the test ends."""
    other = Store(store.url, **kwargs)
    _opened.append(other)
    return other


def close_stores() -> None:
    """End of a test: close what `new_store` opened, drop its PostgreSQL databases, back to SQLite."""
    global _pg
    while _opened:
        _opened.pop().close()
    while _dbs:
        _pg.drop_database(_dbs.pop())
    _pg = None


def seeded_store(tmp_path: Path, *, model: bool = False) -> Store:
    """A project file with the three sample articles (model suggestions only when asked: slower)."""
    store = new_store(tmp_path / "project.db")
    import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=model)
    return store


def write_jsonl(path: Path, tasks: list[dict]) -> Path:
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks), encoding="utf-8")
    return path
