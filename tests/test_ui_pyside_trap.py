"""Regression: PySide6 6.12.0 on Python 3.11 drops a reference to None on every void Qt call, and the
process dies with "Fatal Python error: none_dealloc" after about 5,000 calls. The project pins 6.11.3
there; this runs 20,000 void calls in a child process, which must exit cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

VOID_CALLS = """
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
widget = QWidget()
for i in range(10_000):
    widget.setEnabled(i % 2 == 0)  # void
    widget.setObjectName("w")  # void
import PySide6
print("ok", PySide6.__version__)
"""


def test_ui_pyside_void_calls_do_not_crash():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", VOID_CALLS], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok")
    assert "none_dealloc" not in done.stderr
