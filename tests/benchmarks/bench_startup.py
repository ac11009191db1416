"""Start-up of the small commands, against the floors of what they must load, in the same run.

    python tests/benchmarks/bench_startup.py --out report.json [--quick] [--repeat 7]

- import: `annotator import one.jsonl --no-model` (one new article) into an existing project. Its
  floor: Python starting and loading SQLAlchemy's ORM, click and spaCy's English tokenizer (a text
  is tokenised by spaCy; `import spacy` alone is most of it). Target ≤ 0.5 s. Also what spaCy's part
  is made of: `import spacy`, its CLI package that `import spacy` loads (typer, rich, weasel),
  `spacy.blank("en")`, and tokenising one text.
- export: `annotator export --format jsonl` of that one-article project. It reads with raw SQL (no
  ORM): its floor is Python with SQLAlchemy's core and click; the ORM floor it had before is
  reported too. Target ≤ 0.3 s.
Each figure is the median of --repeat runs, the commands and their floors taken in turn (a host
that changes speed moves both alike); each run is a fresh interpreter. The load average (five
engineers share two cores) is reported with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import isolation  # noqa: E402

from annotator.core.db.store import Store  # noqa: E402

CLI = "import sys; from annotator.cli import main; sys.argv[0] = 'annotator'; main()"
FLOORS = {"python": "pass",
          "core_click": "import click, sqlalchemy",
          "orm_click": "import click, sqlalchemy.orm",
          "orm_click_spacy_tokenizer": "import click, sqlalchemy.orm, spacy; spacy.blank('en')",
          "spacy_import": "import spacy",
          "spacy_cli_deps": "import typer, rich.console, weasel",  # loaded by `import spacy` (spacy/cli)
          "spacy_blank": "import spacy; spacy.blank('en')",
          "spacy_tokenise": "import spacy; spacy.blank('en')('Kim Kwan-jin visits Seoul.')"}


def seconds(args: list[str]) -> float:
    env = {**isolation.as_installed(dict(os.environ)), "PYTHONPATH": str(ROOT), "ANNOTATOR_USER": "bench"}
    t = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="2 runs: a smoke run")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    repeat = 2 if args.quick else args.repeat
    runs: dict[str, list[float]] = {k: [] for k in ["import", "export", *FLOORS]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i in range(repeat):
            db = tmp / f"p{i}.db"
            Store(db).close()  # an existing project: a new one is made once, through Alembic
            one = tmp / f"one{i}.jsonl"
            one.write_text(json.dumps({"text": f"Kim Kwan-jin visits Seoul on day {i}.", "spans": [
                {"start": 0, "end": 12, "label": "PERSON"}]}) + "\n", encoding="utf-8")
            runs["import"].append(seconds(["-c", CLI, "--db", str(db), "import", str(one), "--no-model",
                                           "--as-layer", "bench"]))
            runs["export"].append(seconds(["-c", CLI, "--db", str(db), "export", "--format", "jsonl", "--out",
                                           str(tmp / f"out{i}.jsonl"), "--layer", "bench", "--status", "all"]))
            for name, code in FLOORS.items():
                runs[name].append(seconds(["-c", code]))
    med = {k: round(statistics.median(v), 3) for k, v in runs.items()}
    result = {"startup": {"load_average": [round(x, 2) for x in os.getloadavg()],
        "import_one_no_model_s": med["import"], "import_floor_s": med["orm_click_spacy_tokenizer"],
        "import_over_floor_s": round(med["import"] - med["orm_click_spacy_tokenizer"], 3),
        "target_import_s_max": 0.5,
        "export_small_s": med["export"], "export_floor_s": med["core_click"],
        "export_over_floor_s": round(med["export"] - med["core_click"], 3), "target_export_s_max": 0.3,
        "export_orm_floor_s": med["orm_click"],
        "python_s": med["python"], "import_spacy_s": med["spacy_import"], "spacy_cli_deps_s": med["spacy_cli_deps"],
        "spacy_blank_en_s": med["spacy_blank"], "spacy_tokenise_one_s": med["spacy_tokenise"], "repeat": repeat,
        "runs": {k: [round(x, 3) for x in v] for k, v in runs.items()},
    }}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
