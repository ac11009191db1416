"""A folder export killed (SIGKILL) at a random moment while it replaces an existing export: the
target is exactly the old folder or exactly the new one, never a mix, and the next export to the same
target removes what the killed one left behind."""

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from annotator.core.records import DocRecord, SpanRecord
from annotator.io.exporting import export
from annotator.io.importing import import_records

WORKER = Path(__file__).with_name("export_crash_worker.py")
DOCS = 300
LAYER = "crash"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def records(start: int, n: int, label: str) -> list[DocRecord]:
    texts = [(f"doc{i:04d}", f"Kim Kwan-jin visits Tokyo, number {i}.") for i in range(start, start + n)]
    return [DocRecord(name=name, text=text, spans=[SpanRecord(20, 25, label)]) for name, text in texts]


@pytest.mark.parametrize("fmt", ["brat", "xmi"])
def test_outputs_crash_kill_during_a_folder_export_leaves_old_or_new(store, tmp_path, fmt):
    import_records(store, records(0, DOCS, "GPE"), use_model=False, as_layer=LAYER)
    old_ref = tmp_path / "old-ref"
    export(store, fmt, old_ref, layer=LAYER, status="all")
    (old_ref / "stale.txt").write_text("only in the old export")  # must not survive into the new one
    import_records(store, records(DOCS, 40, "ORG"), use_model=False, as_layer=LAYER)
    new_ref = tmp_path / "new-ref"
    export(store, fmt, new_ref, layer=LAYER, status="all")
    old, new = tree(old_ref), tree(new_ref)
    assert old != new and set(old) - set(new) == {"stale.txt"}
    store.close()

    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    target = out_dir / "out"
    started = time.perf_counter()  # one unkilled run: how long the worker takes, to aim the kills
    shutil.copytree(old_ref, target)
    subprocess.run([sys.executable, str(WORKER), str(store.path), fmt, str(target), LAYER], check=True,
                   capture_output=True)
    duration = time.perf_counter() - started
    assert tree(target) == new

    rng = random.Random(20261124)
    outcomes = []
    for round_ in range(8):
        shutil.rmtree(target)
        shutil.copytree(old_ref, target)
        proc = subprocess.Popen([sys.executable, str(WORKER), str(store.path), fmt, str(target), LAYER],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.random() * duration * 0.6)  # anywhere in the export (start-up is over by now)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        got = tree(target)
        assert got in (old, new), f"round {round_}: a mix of {len(set(got) & set(old))} old-named files"
        left = [p.name for p in out_dir.iterdir() if p.name != "out"]
        outcomes.append(("old" if got == old else "new") + ("+leftovers" if left else ""))
        export(store, fmt, target, layer=LAYER, status="all", force=True)  # the next export, in this process
        assert tree(target) == new and sorted(p.name for p in out_dir.iterdir()) == ["out"], f"round {round_}"
    print(f"{fmt}: {duration:.2f} s a run; after the kills: {outcomes}")
