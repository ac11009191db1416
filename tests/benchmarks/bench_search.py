"""Corpus search at scale: a project with 100,000 generated news-like documents.

    python tests/benchmarks/bench_search.py --out report.json [--quick]

Documents are generated (seeded: every run builds the same corpus) from sentences about ministries,
cities and talks, with a few model-layer spans each, and go into a real project file (Alembic schema)
by raw SQL inserts; the FTS5 trigram index over document text is rebuilt once at the end rather than
row by row through its trigger. Timed through `core.search.search` as the window and the CLI call it
(100 hits): a common word, a phrase, a regex (its literal narrows the documents), a rare phrase, and
span filters of the model layer: every unlinked ORG, every unlinked mention (any label), and every
NIL (none: a filter no span passes). Each --repeat times; the median counts.
The raw limit, in the same run: a plain `SELECT rowid FROM document_fts WHERE document_fts MATCH ?
LIMIT 100` on a raw sqlite3 connection. Target: every search <= 200 ms. Writes {"search": {...}}.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.search import Filters, search  # noqa: E402

TARGET_MS = 200.0
CITIES = ["Seoul", "Tokyo", "Busan", "Osaka", "Pyongyang", "Beijing", "Washington", "Kyoto", "Incheon", "Sapporo"]
ORGS = ["Defense Ministry", "Foreign Ministry", "Blue House", "National Assembly", "Joint Chiefs of Staff",
        "Unification Ministry", "Coast Guard", "Samsung Electronics", "Korea Exchange", "Bank of Korea"]
VERBS = ["said", "announced", "denied", "confirmed", "reported", "warned", "agreed", "proposed"]
TOPICS = ["military intelligence", "the two sides", "logistics cooperation", "missile programmes",
          "trade talks", "joint exercises", "the pact", "security issues", "the summit", "rescue operations"]
RARE = "in Sapporo and the Coast Guard denied"
CASES = {"word": ("Tokyo", False, Filters()), "phrase": ("the two sides", False, Filters()),
         "regex": (r"Blue House (?:said|warned)", True, Filters()), "rare": (RARE, False, Filters()),
         "span_filter": ("", False, Filters(label="ORG", unlinked=True)),
         "span_unlinked": ("", False, Filters(unlinked=True)), "span_nil": ("", False, Filters(nil=True))}


def document(r: random.Random, i: int) -> tuple[str, list[tuple[int, int, str]]]:
    """About 600 characters of sentences, and the model's spans on the cities and organisations."""
    parts: list[str] = []
    spans = []
    pos = 0
    for _ in range(r.randint(5, 8)):
        city, org = r.choice(CITIES), r.choice(ORGS)
        for piece, label in ((f"Officials in ", None), (city, "GPE"), (" and the ", None), (org, "ORG"),
                             (f" {r.choice(VERBS)} on {r.choice(TOPICS)} (report {i}). ", None)):
            if label:
                spans.append((pos, pos + len(piece), label))
            parts.append(piece)
            pos += len(piece)
    return "".join(parts), spans


def build(path: Path, n: int) -> dict:
    t0 = time.perf_counter()
    Store(path).close()  # the real schema, through Alembic
    r = random.Random(0)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    with con:
        con.execute("DROP TRIGGER documents_fts_insert")  # the index is rebuilt once below
        con.execute("INSERT INTO annotators(id, name, role, is_model) VALUES (1, 'model', 'annotator', 1)")
        con.execute("INSERT INTO annotators(id, name, role, is_model) VALUES (2, 'bench', 'reviewer', 0)")
        span_rows = []
        docs = []
        for i in range(1, n + 1):
            text, spans = document(r, i)
            docs.append((i, f"doc{i:06d}", f"Report {i}", text, f"{i:064x}"))
            span_rows += [(i, s, e, label) for s, e, label in spans]
        con.executemany("INSERT INTO documents(id, name, title, text, text_sha256, tokens, meta, imported_at) "
                        "VALUES (?, ?, ?, ?, ?, x'', '{}', '2026-01-01')", docs)
        con.executemany("INSERT INTO spans(document_id, annotator_id, start, \"end\", label, nil, referent_note, "
                        "origin, status, created_at, updated_at, version) VALUES (?, 1, ?, ?, ?, 0, '', 'model', "
                        "'suggested', '2026-01-01', '2026-01-01', 1)", span_rows)
        con.execute("INSERT INTO document_fts(document_fts) VALUES ('rebuild')")
        con.execute("INSERT INTO document_fts(document_fts) VALUES ('optimize')")
        con.execute("CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN "
                    "INSERT INTO document_fts(rowid, text) VALUES (new.id, new.text); END")
    con.close()
    return {"documents": n, "spans": len(span_rows), "build_s": round(time.perf_counter() - t0, 1),
            "file_mb": round(path.stat().st_size / 1e6, 1)}


def run(n: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "bench.db"
        info = build(path, n)
        store = Store(path)
        out: dict = {}
        with store.Session() as s:
            search(s, 2, "warm up")
            for name, (query, regex, filters) in CASES.items():
                runs, hits = [], 0
                for _ in range(repeat):
                    t = time.perf_counter()
                    hits = len(search(s, 2, query, regex=regex, filters=filters, layer="model", limit=100))
                    runs.append((time.perf_counter() - t) * 1000)
                out[name] = {"ms": round(statistics.median(runs), 2), "first_ms": round(runs[0], 2), "hits": hits}
        store.close()
        raw = sqlite3.connect(path)
        base = {}
        for name, phrase in (("word", '"Tokyo"'), ("phrase", '"the two sides"'), ("rare", f'"{RARE}"')):
            runs = []
            for _ in range(repeat):
                t = time.perf_counter()
                raw.execute("SELECT rowid FROM document_fts WHERE document_fts MATCH ? LIMIT 100", (phrase,)).fetchall()
                runs.append((time.perf_counter() - t) * 1000)
            base[name] = round(statistics.median(runs), 2)
        raw.close()
    return {**info, "searches": out, "baseline_fts_match_ms": base, "target_ms": TARGET_MS,
            "meets_target": all(v["ms"] <= TARGET_MS for v in out.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="5,000 documents (a smoke run)")
    parser.add_argument("--repeat", type=int, default=5, help="timings per search; the median counts")
    args = parser.parse_args()
    n = 5_000 if args.quick else 100_000
    report = {"search": {**run(n, args.repeat), "sqlite": sqlite3.sqlite_version,
                         "python": platform.python_version(), "machine": platform.machine()}}
    print(json.dumps(report, indent=2))
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
