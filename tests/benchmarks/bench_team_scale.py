"""The team server at scale: the same generated project (100,000 articles, 3,000,000 spans) on SQLite
and on PostgreSQL, each path timed on both in one run; PostgreSQL's figure over SQLite's is the ratio.

    python tests/benchmarks/bench_team_scale.py --out report.json [--quick] [--docs 100000]

- load: generate.py's project (raw SQL into SQLite), then every row of it into a PostgreSQL project
  (schema made by the app) with COPY, one transaction; rows/s reported (not a target).
- import: `import_paths` of the same generated JSONL (--import-docs articles with ~30 spans, no model)
  into an empty project on each backend: COPY on PostgreSQL (core/db/bulk.py), executemany on SQLite.
- open: from starting a process to the window painted with its first document (bench_open.py's
  launch), median of the rounds, the backends taking turns.
- next document: Ctrl+PgDown in the window, 50 times across the list's first page (bench_open.py), p95.
- search: `core.search.search` as the window calls it (100 hits): a common word, a phrase found in a
  few documents, a span filter by label and one without (every unlinked mention); the median of the
  first --repeat runs (what a user's first searches cost) and of --steady runs after them; each search
  in a session of its own, as the window runs it (a pooled connection: the server's caches stay warm,
  but a statement prepared in one session is gone in the next); the worst case's ratio of each.
- export: `export(jsonl)` of the layer, every document (best of --repeat).
Target for open, next, search and export: PostgreSQL ≤ 1.5 × SQLite. The PostgreSQL server is a
throwaway one (tests/pg.py); where none can be started the benchmark says so in one line and
writes {"team_scale": {"skipped": reason}}.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # tests/: the throwaway PostgreSQL server (pg.py)

import isolation  # noqa: E402

isolation.isolate()

import generate  # noqa: E402
from bench_open import SHOW_WINDOW, USER, step_times  # noqa: E402
from bench_window import time_process  # noqa: E402
from sqlalchemy import select  # noqa: E402

from annotator.core.db.models import Annotator, Base  # noqa: E402
from annotator.core.db.store import Store  # noqa: E402
from annotator.core.search import Filters, search  # noqa: E402
from annotator.io.exporting import export  # noqa: E402
from annotator.io.importing import import_paths  # noqa: E402

TARGET = 1.5
FETCH = 20_000


def p95(samples: list[float]) -> float:
    ms = sorted(s * 1000 for s in samples)
    return round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 2)


# --- the PostgreSQL copy of the project

def copy_project(sqlite_path: Path, url: str) -> dict:
    """Every row of the SQLite project into the PostgreSQL one (emptied first: the app's own rows are
    in the SQLite file too), by COPY in one transaction, as pg_restore loads a dump: foreign keys not
checked row by row (the rows are consistent already), the secondary indexes built after the rows;
    the sequences moved past the ids, then VACUUM ANALYZE as after any bulk load."""
    import psycopg

    store = Store(url)  # the schema, as the app makes it
    store.close()
    params = psycopg.conninfo.make_conninfo(url.replace("postgresql+psycopg", "postgresql"))
    src = sqlite3.connect(sqlite_path)
    t = time.perf_counter()
    n = 0
    tables = Base.metadata.sorted_tables
    with psycopg.connect(params) as conn:
        conn.execute("SET session_replication_role = replica")  # rows known consistent: no per-row FK checks
        for table in reversed(tables):
            conn.execute(f'DELETE FROM "{table.name}"')
        # the secondary indexes are built once at the end, as a bulk load does (the trigram one would
        # otherwise be updated row by row)
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' AND NOT "
                               "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table in tables:
            cols = [c.name for c in table.c]
            quoted = ", ".join(f'"{c}"' for c in cols)
            cur = src.execute(f"SELECT {quoted} FROM \"{table.name}\"")
            bools = [i for i, c in enumerate(table.c) if c.type.python_type is bool]
            with conn.cursor().copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                while chunk := cur.fetchmany(FETCH):
                    for row in chunk:
                        if bools:
                            row = list(row)
                            for i in bools:
                                row[i] = None if row[i] is None else bool(row[i])
                        copy.write_row(row)
                    n += len(chunk)
            if "id" in table.c:  # setval(NULL) when the id has no sequence: nothing
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                             f"coalesce((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false)")
        for _, definition in indexes:
            conn.execute(definition)
    with psycopg.connect(params, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - t
    src.close()
    return {"rows": n, "seconds": round(seconds, 1), "rows_per_s": round(n / seconds)}


# --- the paths timed on each backend

def time_import(db: str, data: Path) -> float:
    store = Store(db)
    t = time.perf_counter()
    import_paths(store, [data], use_model=False, as_layer="imported")
    seconds = time.perf_counter() - t
    store.close()
    return seconds


def search_cases(sqlite_path: Path) -> dict[str, tuple[str, Filters]]:
    """A common word, a phrase of a few documents (three words from the middle of the last article),
    and a span filter."""
    con = sqlite3.connect(sqlite_path)
    last = con.execute("SELECT text FROM documents ORDER BY id DESC LIMIT 1").fetchone()[0]
    con.close()
    words = last.split(" ")
    return {"word": ("minister", Filters()), "phrase": (" ".join(words[40:43]), Filters()),
            "span_filter": ("", Filters(label="ORG")), "span_unlinked": ("", Filters(unlinked=True))}


def time_searches(db: str, cases: dict, repeat: int, steady: int) -> dict:
    store = Store(db)
    out = {}
    with store.Session() as s:
        viewer = s.scalar(select(Annotator.id).where(Annotator.name == USER))
        search(s, viewer, "warm up")
    for name, (query, filters) in cases.items():
        runs, hits = [], 0
        for _ in range(repeat + steady):
            with store.Session() as s:  # a session per search, as Project.search (the window) has
                t = time.perf_counter()
                hits = len(search(s, viewer, query, filters=filters, limit=100))
                runs.append(time.perf_counter() - t)
        out[name] = {"ms": round(statistics.median(runs[:repeat]) * 1000, 2),
                     "steady_ms": round(statistics.median(runs[repeat:]) * 1000, 2), "hits": hits}
    store.close()
    return out


def time_export(db: str, out: Path, repeat: int) -> float:
    store = Store(db)
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        export(store, "jsonl", out, layer=USER, status="all", force=True)
        runs.append(time.perf_counter() - t)
    store.close()
    return min(runs)


def ratio(pg: float, lite: float) -> float:
    return round(pg / lite, 3) if lite else 0.0


def run(tmp: Path, n: int, n_import: int, rounds: int, steps: int, repeat: int, steady: int) -> dict:
    from pg import PgCluster

    cluster = PgCluster()
    try:
        lite = tmp / "big.db"
        t = time.perf_counter()
        generate.write_project(lite, n)
        built = time.perf_counter() - t
        pg = cluster.url(cluster.create_database("scale"))
        load = copy_project(lite, pg)
        result: dict = {"documents": n, "spans": 0, "build_sqlite_s": round(built, 1), "load_postgresql": load}
        with sqlite3.connect(lite) as con:
            result["spans"] = con.execute("SELECT count(*) FROM spans").fetchone()[0]
        dbs = {"sqlite": str(lite), "postgresql": pg}

        data = tmp / "import.jsonl"
        generate.write_jsonl(data, n_import, seed=2)
        imp = {name: time_import(db, data) for name, db in
               (("sqlite", str(tmp / "import.db")), ("postgresql", cluster.url(cluster.create_database("imp"))))}
        result["import"] = {"documents": n_import, "sqlite_s": round(imp["sqlite"], 2),
                            "postgresql_s": round(imp["postgresql"], 2),
                            "ratio": ratio(imp["postgresql"], imp["sqlite"])}

        for db in dbs.values():  # not timed: bytecode, caches
            time_process(SHOW_WINDOW, db)
        opened = {name: [] for name in dbs}
        for _ in range(rounds):
            for name, db in dbs.items():
                opened[name].append(time_process(SHOW_WINDOW, db))
        o = {name: statistics.median(v) for name, v in opened.items()}
        result["open"] = {"sqlite_s": round(o["sqlite"], 3), "postgresql_s": round(o["postgresql"], 3),
                          "ratio": round(statistics.median(p / s for p, s in zip(opened["postgresql"],
                                                                                 opened["sqlite"])), 3),
                          "rounds": rounds}

        nxt = {name: p95(step_times(db, steps)) for name, db in dbs.items()}
        result["next"] = {"sqlite_p95_ms": nxt["sqlite"], "postgresql_p95_ms": nxt["postgresql"],
                          "ratio": ratio(nxt["postgresql"], nxt["sqlite"]), "steps": steps}

        cases = search_cases(lite)
        found = {name: time_searches(db, cases, repeat, steady) for name, db in dbs.items()}
        lite_s, pg_s = found["sqlite"], found["postgresql"]
        per_case = {case: {"query": query or ", ".join(f"{k}={v}" for k, v in asdict(filters).items() if v), "sqlite_ms": lite_s[case]["ms"],
                           "postgresql_ms": pg_s[case]["ms"], "ratio": ratio(pg_s[case]["ms"], lite_s[case]["ms"]),
                           "sqlite_steady_ms": lite_s[case]["steady_ms"], "postgresql_steady_ms": pg_s[case]["steady_ms"],
                           "steady_ratio": ratio(pg_s[case]["steady_ms"], lite_s[case]["steady_ms"]),
                           "hits": [lite_s[case]["hits"], pg_s[case]["hits"]]}
                    for case, (query, filters) in cases.items()}
        result["search"] = {"cases": per_case, "ratio": max(c["ratio"] for c in per_case.values()),
                            "steady_ratio": max(c["steady_ratio"] for c in per_case.values())}

        ex = {name: time_export(db, tmp / f"export-{name}.jsonl", repeat) for name, db in dbs.items()}
        same = (tmp / "export-sqlite.jsonl").read_bytes() == (tmp / "export-postgresql.jsonl").read_bytes()
        result["export"] = {"sqlite_s": round(ex["sqlite"], 2), "postgresql_s": round(ex["postgresql"], 2),
                            "ratio": ratio(ex["postgresql"], ex["sqlite"]), "identical_output": same}
        result["ratios"] = {k: result[k]["ratio"] for k in ("open", "next", "search", "export")}
        result["target_ratio_max"] = TARGET
        result["meets_target"] = all(r <= TARGET for r in result["ratios"].values())
        return result
    finally:
        cluster.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="2,000 documents: a smoke run, figures meaningless")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--import-docs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="launches per backend (open)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per search and export")
    parser.add_argument("--steady", type=int, default=20, help="runs per search after the first --repeat")
    args = parser.parse_args()
    n, n_import = (2_000, 300) if args.quick else (args.docs, args.import_docs)
    rounds = 2 if args.quick else args.rounds
    import pytest

    with tempfile.TemporaryDirectory() as tmp:
        try:
            report = {"team_scale": run(Path(tmp), n, n_import, rounds, 50, args.repeat, args.steady)}
        except (pytest.skip.Exception, pytest.fail.Exception) as e:  # tests/pg.py: no server here
            print(f"SKIPPED team_scale: {e}", flush=True)
            report = {"team_scale": {"skipped": str(e)}}
    text = json.dumps(report, indent=2)
    print(text)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
