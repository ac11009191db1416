"""Export speed of the format writers against the plainest way to write the same data.

    python tests/benchmarks/bench_formats.py --out report.json [--quick]

- jsonl: `jsonl.write(records)` vs `json.dumps` of the already-built task dicts, one per line.
- spacy: `spacy_docbin.write(records)` vs `DocBin(docs=premade_docs).to_disk`, the Docs built beforehand
  (untimed, by `spacy_docbin.to_doc`) with the same words, entities and sentences: the raw limit of
  serialising them. The writer also packs each record's user_data, which that baseline does not.
  (`DocBin(..., store_user_data=True)` is no fairer a reference: it packs user_data with a new msgpack
  Packer per doc, ~1 ms each, which makes a 100,000-document run take minutes.) Untimed, the writer's
  file is compared with one built from the premade Docs plus the same packed user_data.

A ratio is baseline time / writer time: 1.0 means as fast as the baseline; the target is >= 0.5.
Each figure is the best of --repeat runs. Prints and writes {"formats": {...}}.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from annotator.core.records import DocRecord, FormatReport, SpanRecord  # noqa: E402
from annotator.formats import jsonl, spacy_docbin  # noqa: E402

TARGET = 0.5
CITIES = ["Tokyo", "Seoul", "Busan", "Osaka", "東京", "서울"]


def records(n: int) -> list[DocRecord]:
    """Short news-like documents with tokens, two or three entities and KB ids."""
    docs = []
    for i in range(n):
        city = CITIES[i % len(CITIES)]
        text = f"Kim Kwan-jin visits {city} on day {i} 😀.\nThe GSOMIA pact was signed."
        words = text.replace(".", " .").split()
        tokens, pos = [], 0
        for w in words:
            start = text.index(w, pos)
            tokens.append((start, start + len(w)))
            pos = start + len(w)
        spans = [SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(20, 20 + len(city), "GPE")]
        if i % 2:
            g = text.index("GSOMIA")
            spans.append(SpanRecord(g, g + 6, "LAW", "NIL"))
        docs.append(DocRecord(f"doc{i}", text, title=f"Article {i}", meta={"source": "bench"},
                              spans=spans, tokens=tokens))
    return docs


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_jsonl(docs: list[DocRecord], where: Path, repeat: int) -> dict:
    tasks = [jsonl.to_task(d) for d in docs]

    def plain():
        with open(where / "plain.jsonl", "w", encoding="utf-8", newline="\n") as fh:
            for task in tasks:
                fh.write(json.dumps(task, ensure_ascii=False))
                fh.write("\n")

    ours = best(lambda: jsonl.write(docs, where / "ours.jsonl"), repeat)
    base = best(plain, repeat)
    same = (where / "ours.jsonl").read_bytes() == (where / "plain.jsonl").read_bytes()
    return {"documents": len(docs), "writer_s": round(ours, 4), "json_dumps_s": round(base, 4),
            "ratio": round(base / ours, 3), "target": TARGET, "meets_target": base / ours >= TARGET,
            "identical_output": same, "docs_per_s": round(len(docs) / ours)}


def bench_spacy(docs: list[DocRecord], where: Path, repeat: int) -> dict:
    import srsly
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    vocab = Vocab()
    premade = [spacy_docbin.to_doc(d, vocab, FormatReport()) for d in docs]  # outside the timing

    ours = best(lambda: spacy_docbin.write(docs, where / "ours.spacy"), repeat)
    base = best(lambda: DocBin(docs=premade).to_disk(where / "base.spacy"), repeat)

    same = DocBin(docs=premade, store_user_data=True)  # user_data packed once, as the writer does
    pack = srsly.msgpack.Packer(use_bin_type=True).pack
    same.user_data = [pack(spacy_docbin.user_data(d)) for d in docs]
    identical = same.to_bytes() == (where / "ours.spacy").read_bytes()
    return {"documents": len(docs), "writer_s": round(ours, 4), "docbin_premade_s": round(base, 4),
            "ratio": round(base / ours, 3), "target": TARGET, "meets_target": base / ours >= TARGET,
            "identical_output": identical, "docs_per_s": round(len(docs) / ours)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to write the JSON report")
    parser.add_argument("--quick", action="store_true", help="2,000 documents, one run (a smoke test)")
    parser.add_argument("--docs", type=int, default=100_000, help="documents to export (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts")
    args = parser.parse_args(argv)
    n, repeat = (2_000, 1) if args.quick else (args.docs, args.repeat)

    docs = records(n)
    with tempfile.TemporaryDirectory() as tmp:
        figures = {"jsonl": bench_jsonl(docs, Path(tmp), repeat),
                   "spacy": bench_spacy(docs, Path(tmp), repeat)}
    figures["environment"] = {"python": platform.python_version(), "machine": platform.machine(),
                              "quick": args.quick, "repeat": repeat}
    report = {"formats": figures}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
