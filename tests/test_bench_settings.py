"""Benchmarks open projects as user "bench": that must not reach the user's own Qt settings (recent
projects, last user). Run as the benchmarks run, with the user's settings folder made up here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import isolation  # noqa: E402

LAUNCH = """
import sys
from PySide6.QtCore import QTimer
from annotator.ui.qt_app import application, launch
app = application(offscreen=True)
window = launch(sys.argv[1], "bench", import_seeds=False)
QTimer.singleShot(0, app.quit)
app.exec()
"""
IN_PROCESS = """
import sys
sys.path.insert(0, sys.argv[2])
import isolation
print(isolation.isolate())
""" + LAUNCH


def run(code: str, env: dict, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def user_env(tmp_path: Path) -> dict:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in (isolation.ENV, "XDG_CONFIG_HOME")}
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(Path(__file__).parents[1])}


def settings_files(folder: Path) -> list[Path]:
    """Files under `folder`, but the user cache's empty project (core/db/template.py): not a setting,
    and the same whoever makes it."""
    return [p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.relative_to(folder).parts]


def test_a_benchmark_child_process_writes_its_settings_to_the_bench_folder(tmp_path):
    """What run.py and bench_window do for a launched window: the user's folder stays empty."""
    env, bench = user_env(tmp_path), tmp_path / "bench"
    bench.mkdir()
    run(isolation.PRELUDE + LAUNCH, {**env, isolation.ENV: str(bench)}, str(tmp_path / "p.db"))
    assert settings_files(tmp_path / "home") == []
    written = settings_files(bench)
    assert written and "bench" in "".join(p.read_text() for p in written)


def test_a_benchmark_run_on_its_own_makes_its_own_settings_folder(tmp_path):
    env = user_env(tmp_path)
    folder = Path(run(IN_PROCESS, env, str(tmp_path / "p.db"), str(BENCH)).splitlines()[0])
    assert settings_files(tmp_path / "home") == []
    assert any("bench" in p.read_text() for p in settings_files(folder))


def test_run_py_gives_every_benchmark_the_bench_folder(tmp_path):
    env = isolation.environment(tmp_path)
    assert env == {isolation.ENV: str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    assert "isolation.environment(settings.name)" in (BENCH / "run.py").read_text()
