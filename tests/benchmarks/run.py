"""Run every benchmark (bench_*.py) and merge their JSON into one report.

    python tests/benchmarks/run.py --out bench-report.json [--quick] [--only NAME ...]

Each benchmark measures a ratio against the raw limit in the same run (raw spaCy, raw SQLite,
plain Qt); the report keeps the figures and the targets side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import isolation  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench-report.json")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, figures meaningless")
    parser.add_argument("--only", nargs="*", help="benchmark names, e.g. editing importing")
    args = parser.parse_args()
    report: dict = {}
    failed = []
    settings = tempfile.TemporaryDirectory(prefix="annotator-bench-settings-")  # never the user's own
    env = {**isolation.as_installed(dict(os.environ)), "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           **isolation.environment(settings.name)}
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            out = Path(tmp.name)
        cmd = [sys.executable, str(script), "--out", str(out)] + (["--quick"] if args.quick else [])
        print(f"== {name}", flush=True)
        proc = subprocess.run(cmd, env=env)
        if proc.returncode != 0:
            failed.append(name)
            continue
        report.update(json.loads(out.read_text()))
        out.unlink()
    settings.cleanup()
    report["_run"] = {"quick": args.quick, "failed": failed, "python": sys.version.split()[0]}
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"Wrote {args.out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
