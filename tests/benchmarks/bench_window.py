"""The window: shown soon after launch, and a long article opens nearly as fast as plain Qt shows it.

    python tests/benchmarks/bench_window.py --out report.json [--quick]

- launch: from starting a Python process to the window painted on an existing project (seeds imported),
  against the same process showing a bare QMainWindow with a QPlainTextEdit. Target ≤ 1.5 s.
- open: a 10,000-word article with 1,000 spans opened in the window until its first screen is painted
  (text, highlights, span list, counts), against plain `QPlainTextEdit.setPlainText` of the same text
  until it is painted in a widget of the same size. Target ≤ 1.5×. Also reported: until the rest of
  the spans is in as well (the model reads them right after that first paint; `open_all_ms`).
  Each round times both, one after the other; the ratio is the median of the rounds' ratios, which a
  host that changes speed during the run (a busy virtual machine) moves less than a ratio of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import isolation  # noqa: E402

isolation.isolate()  # recent projects and the last user go to a temporary folder, not the user's settings

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt  # noqa: E402

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.project import Project  # noqa: E402
from annotator.core.records import DocRecord, SpanRecord  # noqa: E402
from annotator.core.resources import seeds_dir  # noqa: E402
from annotator.io.importing import import_paths, import_records  # noqa: E402

SHOW_WINDOW = isolation.PRELUDE + """
import sys
from PySide6.QtCore import QTimer
from annotator.ui.qt_app import application, launch
app = application(offscreen=True)
window = launch(sys.argv[1], "bench", import_seeds=False)
QTimer.singleShot(0, lambda: (window.repaint(), print("shown", flush=True), app.quit()))
app.exec()
"""
SHOW_PLAIN = isolation.PRELUDE + """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit
app = QApplication([])
window = QMainWindow()
window.setCentralWidget(QPlainTextEdit())
window.resize(1280, 800)
window.show()
QTimer.singleShot(0, lambda: (window.repaint(), print("shown", flush=True), app.quit()))
app.exec()
"""


def time_process(code: str, *args: str) -> float:
    """From starting the process to its "shown" line: the window is up (the process's exit, which tears
    down Qt and the interpreter, is not part of launching). Python may keep the modules' bytecode, as it
    does for an installed app (PYTHONDONTWRITEBYTECODE would have it compile them at every launch)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t
    proc.stdout.read()
    assert proc.wait() == 0 and line.strip() == "shown", line
    return elapsed


class PaintClock(QObject):
    """When the first paint after an open is done: `mark` posts an event at the priority of Qt's paint
    request, which the open has just posted, so Qt delivers it right after painting; the model's read of
    the rest of the spans is posted below that priority and comes later. Paints are counted to check."""

    def __init__(self, viewport):
        super().__init__()
        self.painted_at = self.marked_at = 0.0
        self.type = QEvent.Type(QEvent.registerEventType())
        viewport.installEventFilter(self)

    def mark(self) -> None:
        self.painted_at = self.marked_at = 0.0
        QCoreApplication.postEvent(self, QEvent(self.type), Qt.EventPriority.LowEventPriority.value)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint and not self.marked_at:
            self.painted_at = time.perf_counter()
        return False

    def customEvent(self, event) -> None:  # noqa: N802 (Qt name)
        assert self.painted_at, "the mark came before the paint"
        self.marked_at = time.perf_counter()


def long_article(words: int, spans: int) -> DocRecord:
    rng = random.Random(7)
    vocab = ["the", "ministry", "said", "on", "Monday", "that", "talks", "with", "Seoul", "Tokyo", "would",
             "resume", "after", "a", "pause", "of", "several", "months", "officials", "agreed"]
    text, offsets = [], []
    pos = 0
    for i in range(words):
        word = rng.choice(vocab)
        text.append(word)
        offsets.append((pos, pos + len(word)))
        pos += len(word) + 1
        if i % 60 == 59:
            text.append("\n")
            pos += 1
    body = " ".join(text).replace(" \n ", "\n\n")
    # recompute offsets on the final text: words are separated by one space or a blank line
    offsets, pos = [], 0
    for line in body.split("\n"):
        for word in line.split(" "):
            if word:
                offsets.append((pos, pos + len(word)))
            pos += len(word) + 1
    chosen = sorted(rng.sample(range(len(offsets)), spans))
    return DocRecord(name="long", text=body, spans=[SpanRecord(*offsets[i], "GPE") for i in chosen],
                     annotator="bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 2 if args.quick else 15
    words, n_spans = (2000, 200) if args.quick else (10_000, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = Store(tmp / "p.db")
        import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=False)
        import_records(store, [long_article(words, n_spans)], use_model=False)
        store.close()
        time_process(SHOW_WINDOW, str(tmp / "p.db"))  # not timed: the first launch compiles the bytecode
        launch = [time_process(SHOW_WINDOW, str(tmp / "p.db")) for _ in range(rounds)]
        plain_launch = [time_process(SHOW_PLAIN) for _ in range(rounds)]

        from PySide6.QtWidgets import QPlainTextEdit

        from annotator.ui.qt_app import application, make_window

        app = application(offscreen=True)
        project = Project(Store(tmp / "p.db"), user="bench")
        long_id = next(d.id for d in project.documents() if d.name == "long")
        text = project.document(long_id).text
        window = make_window(project)
        window.resize(1280, 800)
        window.show()
        plain = QPlainTextEdit()
        plain.resize(window.view.size())
        plain.show()
        app.processEvents()
        ours, theirs = PaintClock(window.view.viewport()), PaintClock(plain.viewport())
        opened, opened_all, baseline = [], [], []
        for _ in range(rounds):
            window.open_document(1)  # another document, so that the long one really opens again
            app.processEvents()
            t = time.perf_counter()
            window.open_document(long_id)
            ours.mark()
            app.processEvents()
            opened_all.append(time.perf_counter() - t)
            opened.append(ours.marked_at - t)
            assert not window.model.unread and len(window.model.spans) == n_spans
            plain.setPlainText("")
            app.processEvents()
            t = time.perf_counter()
            plain.setPlainText(text)
            theirs.mark()
            app.processEvents()
            baseline.append(theirs.marked_at - t)
        window.close()
    result = {"window": {
        "launch_s": round(statistics.median(launch), 3), "plain_qt_launch_s": round(statistics.median(plain_launch), 3),
        "launch_target_s_max": 1.5,
        "open_words": words, "open_spans": n_spans,
        "open_ms": round(statistics.median(opened) * 1000, 2),
        "open_all_ms": round(statistics.median(opened_all) * 1000, 2),
        "plain_set_plain_text_ms": round(statistics.median(baseline) * 1000, 2),
        "open_ratio": round(statistics.median(a / b for a, b in zip(opened, baseline)), 3),
        "open_ratio_target_max": 1.5,
        "open_all_ratio": round(statistics.median(a / b for a, b in zip(opened_all, baseline)), 3),
    }}
    print(json.dumps(result, indent=2))
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
