"""Starting the app: the window shows fast (before spaCy), the first run imports the seeds in a
worker with the real model while the window stays responsive, and screenshots render offscreen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from sqlalchemy import func, select

from annotator.core.db.models import Entity, Span
from annotator.ui.qt_app import launch, screenshot

STARTUP = """
import json, sys, time
from annotator.ui.qt_main_window import QtMainWindow
seen = {}
original = QtMainWindow.showEvent
def show_event(self, event):
    seen.setdefault("shown_at", time.time())
    seen.setdefault("cpu_at_show", time.process_time())  # the work done until then, whatever the load
    seen.setdefault("spacy_loaded", "spacy" in sys.modules)
    original(self, event)
QtMainWindow.showEvent = show_event
from annotator.ui.qt_app import application, launch
app = application()
window = launch(sys.argv[1], "tester")
app.processEvents()
seen["visible"] = window.isVisible()
seen["importing"] = window.importer.running()
print(json.dumps(seen), flush=True)
import os
os._exit(0)  # do not wait for the seed import to finish
"""


def start(db, tmp_path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("ANNOTATOR_USER", None)
    started = time.time()
    done = subprocess.run([sys.executable, "-c", STARTUP, str(db)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    seen["wall"] = seen["shown_at"] - started
    return seen


def test_ui_first_run_shows_window_before_spacy(tmp_path):
    seen = start(tmp_path / "new.db", tmp_path)
    assert seen["visible"] and seen["importing"]
    assert not seen["spacy_loaded"]


def test_ui_window_shows_fast(project, tmp_path):
    db = project.store.path
    project.store.close()
    seen = start(db, tmp_path)
    assert seen["visible"] and not seen["importing"] and not seen["spacy_loaded"]
    # The target (1.5 s from launch) is measured by tests/benchmarks/bench_window.py; on a shared,
    # loaded test machine only a gross regression is caught here, on the CPU time the process spent
    # until the window showed (about 1.0 s on a quiet machine, interpreter start included).
    assert seen["cpu_at_show"] < 3.0, f"{seen['cpu_at_show']:.2f} s of CPU ({seen['wall']:.2f} s wall)"


@pytest.mark.slow
def test_ui_first_run_imports_seeds_with_model_in_background(tmp_path, qtbot):
    window = launch(tmp_path / "first.db", "tester")
    qtbot.addWidget(window)
    assert window.importer.running()
    assert window.import_progress.isVisible()
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    qtbot.waitUntil(lambda: len(window.documents.model.docs) == 3, timeout=300_000)
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    # the event loop kept running during the import (a short one when spaCy is already loaded in this process)
    assert len(ticks) >= 3 and max(gaps) < 1.5
    qtbot.waitUntil(lambda: window.model.doc_id is not None, timeout=10_000)
    assert not window.import_progress.isVisible()
    with window.project.store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Span).where(Span.origin == "model")) > 50
        assert s.scalar(select(func.count()).select_from(Entity)) > 50  # the starter knowledge base
        assert s.scalar(select(func.count()).select_from(Span).where(Span.entity_id.is_not(None))) > 20
    assert window.model.spans and all(s.status == "suggested" for s in window.model.spans.values())
    message = window.statusBar().currentMessage()  # the import summary's first line, as the CLI prints it
    assert message.startswith("Imported 3 documents") and "suggested by en_core_web_sm" in message
    window.close()
    window.project.store.close()


def test_ui_screenshot_writes_png(project, qapp, tmp_path):
    name = project.documents()[0].name
    db = project.store.path
    project.store.close()
    out = screenshot(db, name, tmp_path / "shot.png", user="tester")
    image = QImage(str(out))
    assert out.stat().st_size > 10_000
    assert (image.width(), image.height()) == (1280, 800)
    assert len({image.pixel(x, y) for x in range(0, 1280, 37) for y in range(0, 800, 29)}) > 5
