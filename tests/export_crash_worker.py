"""Run by test_outputs_crash.py: one folder export over an existing one, killed at a random moment."""

import sys

from annotator.core.db.store import Store
from annotator.io.exporting import export


def main(db: str, fmt: str, out: str, layer: str) -> None:
    store = Store(db)
    print("ready", flush=True)
    export(store, fmt, out, layer=layer, status="all", force=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
