"""Team mode under load: several processes editing one project at once, then every edit accounted for.

    python tests/benchmarks/bench_team.py --out report.json [--quick] [--clients N --edits N]

PostgreSQL (a throwaway server, tests/pg.py): 8 processes × 500 edits, each client a reviewer with its
own database login (so row-level security is in force). SQLite: 2 processes × 500 edits on one file.
Nine edits in ten go to the client's own layer (add a span at a position of its own); one in ten
relabels one of four shared gold spans, on the version the client just read: a client that loses a
race gets a conflict (E037), reads again and retries; only acknowledged edits count.

Afterwards, from the database: `lost` = acknowledged edits that are not there (an own-layer span
missing, or the gold spans' versions grew by less than the acknowledged gold edits); `duplicated` =
edits there more often than acknowledged (extra spans or events, versions grown by more). Latency is
per edit call, from the call until it returned (a conflict's failed try included). "database is
locked" (SQLite) would be counted under `locked` and would fail the run.
Raw limit in the same run: a plain INSERT + COMMIT per edit from the same number of processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the throwaway PostgreSQL server (pg.py)

GOLD_EVERY = 10  # one edit in ten is on a shared gold span
LABELS = ("ORG", "PERSON", "GPE", "NORP")


def p99(samples: list[float]) -> float:
    ms = sorted(s * 1000 for s in samples)
    return round(ms[max(int(len(ms) * 0.99) - 1, 0)], 2) if ms else 0.0


# --- the clients (separate processes)

def client(url: str, name: str, index: int, edits: int, barrier, out: str) -> None:
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from annotator.core.db.models import Annotator, Document, Span
    from annotator.core.db.store import Store
    from annotator.core.project import Project
    from annotator.errors import ConflictError

    store = Store(url)
    project = Project(store, name)
    with store.Session() as s:
        docs = list(s.scalars(select(Document.id).order_by(Document.id)))
        gold = s.scalar(select(Annotator.id).where(Annotator.name == "gold"))
        gold_spans = list(s.scalars(select(Span.id).where(Span.annotator_id == gold).order_by(Span.id)))
    for d in docs:
        project.open_document(d)
    added, gold_done, conflicts, locked, times = [], 0, 0, 0, []
    barrier.wait()
    began = time.perf_counter()
    for k in range(edits):
        if k % GOLD_EVERY == GOLD_EVERY - 1:
            span_id = gold_spans[(k // GOLD_EVERY + index) % len(gold_spans)]
            while True:
                seen = project.span(span_id)
                t = time.perf_counter()
                try:
                    project.relabel(span_id, LABELS[(k + index) % len(LABELS)], version=seen.version)
                except ConflictError:
                    times.append(time.perf_counter() - t)
                    conflicts += 1
                    continue
                times.append(time.perf_counter() - t)
                gold_done += 1
                break
        else:
            d, start = docs[k % len(docs)], k
            t = time.perf_counter()
            try:
                project.add_span(d, start, start + 1, LABELS[index % len(LABELS)])
            except OperationalError as e:  # would be "database is locked": counted, and the run fails
                locked += "locked" in str(e)
                continue
            times.append(time.perf_counter() - t)
            added.append([d, start, start + 1])
    wall = time.perf_counter() - began
    store.close()
    Path(out).write_text(json.dumps({"name": name, "added": added, "gold": gold_done, "conflicts": conflicts,
                                     "locked": locked, "times": times, "wall": wall}))


def raw_client(url: str, n: int, barrier, out: str) -> None:
    """The raw limit: one plain INSERT + COMMIT per edit, same server, same number of processes."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    times = []
    with engine.connect() as conn:
        barrier.wait()
        for i in range(n):
            t = time.perf_counter()
            conn.execute(text("INSERT INTO raw_edits (n) VALUES (:n)"), {"n": i})
            conn.commit()
            times.append(time.perf_counter() - t)
    engine.dispose()
    Path(out).write_text(json.dumps({"times": times}))


def run_clients(target, args_of, n: int, tmp: Path) -> list[dict]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(n)
    outs = [tmp / f"client-{target.__name__}-{i}.json" for i in range(n)]
    procs = [ctx.Process(target=target, args=(*args_of(i), barrier, str(outs[i]))) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit(f"a client failed: exit codes {[p.exitcode for p in procs]}")
    return [json.loads(o.read_text()) for o in outs]


# --- one project, set up by the admin; checked afterwards

def set_up(url: str, names: list[str], *, logins: bool) -> None:
    """The three sample articles, four gold spans (the shared rows), and the clients as reviewers."""
    from sqlalchemy import select

    from annotator.core.db.annotators import gold_annotator, set_role
    from annotator.core.db.models import Document
    from annotator.core.db.store import Store
    from annotator.core.db.team import add_user
    from annotator.core.editing import spans as cmd
    from annotator.core.commands import COMMANDS
    from annotator.core.editing.stack import CommandStack
    from annotator.core.resources import seeds_dir
    from annotator.io.importing import import_paths

    store = Store(url)
    import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=False)
    for name in names:  # with a database login each on PostgreSQL; a role in the file on SQLite
        (add_user if logins else set_role)(store, name, "reviewer", by="admin")
    with store.atomic() as s:
        gold = gold_annotator(s).id
        doc = s.scalar(select(Document.id).order_by(Document.id).limit(1))
    stack = CommandStack(store, gold, COMMANDS)
    for i in range(4):
        stack.push(cmd.AddSpan(doc, gold, 1000 + 20 * i, 1010 + 20 * i, "PERSON"))
    store.close()


def check(url: str, results: list[dict]) -> dict:
    from sqlalchemy import func, select

    from annotator.core.db.models import Annotator, Event, Span
    from annotator.core.db.store import Store

    store = Store(url)
    lost = duplicated = 0
    with store.Session() as s:
        for r in results:
            me = s.scalar(select(Annotator.id).where(Annotator.name == r["name"]))
            rows = [tuple(x) for x in s.execute(select(Span.document_id, Span.start, Span.end)
                                                 .where(Span.annotator_id == me, Span.origin == "human"))]
            acknowledged = {tuple(a) for a in r["added"]}
            lost += len(acknowledged - set(rows))
            duplicated += len(rows) - len(set(rows)) + len(set(rows) - acknowledged)
            events = s.scalar(select(func.count()).select_from(Event)
                              .where(Event.annotator_id == me, Event.command == "add_span"))
            duplicated += max(events - len(acknowledged), 0)
        gold = s.scalar(select(Annotator.id).where(Annotator.name == "gold"))
        grown = s.scalar(select(func.sum(Span.version - 1)).where(Span.annotator_id == gold)) or 0
    store.close()
    acknowledged_gold = sum(r["gold"] for r in results)
    lost += max(acknowledged_gold - grown, 0)
    duplicated += max(grown - acknowledged_gold, 0)
    return {"lost": lost, "duplicated": duplicated, "acknowledged_gold": acknowledged_gold, "gold_versions": grown}


def summary(results: list[dict], clients: int, edits: int, verdict: dict, raw: list[dict] | None) -> dict:
    times = [t for r in results for t in r["times"]]
    out = {"clients": clients, "edits_per_client": edits, "p99_ms": p99(times),
           "median_ms": round(sorted(times)[len(times) // 2] * 1000, 2) if times else 0.0,
           "lost": verdict["lost"], "duplicated": verdict["duplicated"],
           "conflicts_retried": sum(r["conflicts"] for r in results), "locked": sum(r["locked"] for r in results),
           "edits_per_s": round(sum(len(r["added"]) + r["gold"] for r in results) / max(r["wall"] for r in results), 1),
           "gold": {k: verdict[k] for k in ("acknowledged_gold", "gold_versions")}}
    if raw is not None:
        out["baseline"] = f"raw INSERT + COMMIT p99 {p99([t for r in raw for t in r['times']])} ms"
    return out


def bench_postgresql(clients: int, edits: int, tmp: Path) -> dict:
    from pg import PgCluster

    cluster = PgCluster()
    try:
        db = cluster.create_database("bench")
        admin = cluster.url(db)
        names = [f"client{i}" for i in range(clients)]
        set_up(admin, names, logins=True)
        results = run_clients(client, lambda i: (cluster.url(db, user=names[i]), names[i], i, edits), clients, tmp)
        verdict = check(admin, results)
        with cluster.connect(db, autocommit=True) as conn:
            conn.execute("CREATE TABLE raw_edits (id serial PRIMARY KEY, n int)")
        raw = run_clients(raw_client, lambda i: (admin, edits), clients, tmp)
        return summary(results, clients, edits, verdict, raw)
    finally:
        cluster.remove()


def bench_sqlite(clients: int, edits: int, tmp: Path) -> dict:
    path = tmp / "team.db"
    set_up(str(path), [f"client{i}" for i in range(clients)], logins=False)
    results = run_clients(client, lambda i: (str(path), f"client{i}", i, edits), clients, tmp)
    return summary(results, clients, edits, check(str(path), results), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--quick", action="store_true", help="8 × 30 and 2 × 30 edits (a smoke run)")
    parser.add_argument("--clients", type=int, help="PostgreSQL clients (default 8)")
    parser.add_argument("--edits", type=int, help="edits per client (default 500)")
    args = parser.parse_args()
    edits = args.edits or (30 if args.quick else 500)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        report = {"team": {"postgresql": bench_postgresql(args.clients or 8, edits, tmp),
                           "sqlite": bench_sqlite(2, edits, tmp)}}
    print(json.dumps(report, indent=2))
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    ok = all(r["lost"] == 0 and r["duplicated"] == 0 and r["locked"] == 0 for r in report["team"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
