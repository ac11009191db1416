"""Opening the window where it cannot open: a coded message and exit status 1, not Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="X11 and Wayland checks are for Linux")


def no_display_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return {**env, **extra}


def test_ui_display_without_one_is_a_coded_error_and_touches_nothing(tmp_path):
    db = tmp_path / "p.db"
    result = subprocess.run([sys.executable, "-m", "annotator", "--db", str(db)], capture_output=True,
                            text=True, env=no_display_env(), timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: [E051] Cannot open a window: there is no display")
    assert "annotator screenshot" in result.stderr
    assert not db.exists()


def test_ui_display_missing_x11_libraries_are_named_with_the_packages(tmp_path):
    code = ("from annotator.errors import AnnotatorError\n"
            "from annotator.ui.qt_app import check_display\n"
            "try:\n"
            "    check_display(['libxcb-annotator-test.so.9', 'libc.so.6'])\n"
            "except AnnotatorError as e:\n"
            "    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=no_display_env(DISPLAY=":99"), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[E052] Cannot open a window: Qt's X11 plugin needs system libraries "
                                    "that are missing (libxcb-annotator-test.so.9).")
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in result.stdout


def test_ui_display_offscreen_is_not_checked():
    code = "from annotator.ui.qt_app import check_display\ncheck_display(['libxcb-annotator-test.so.9'])\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=no_display_env(QT_QPA_PLATFORM="offscreen"), timeout=120)
    assert result.returncode == 0, result.stderr


def test_ui_display_that_does_not_answer_is_named(tmp_path):
    code = ("from annotator.errors import AnnotatorError\n"
            "from annotator.ui.qt_app import check_display\n"
            "try:\n"
            "    check_display([])\n"
            "except AnnotatorError as e:\n"
            "    print(e)\n")
    display = ":97"  # no X server: DISPLAY left over from another session
    assert not os.path.exists(f"/tmp/.X11-unix/X{display[1:]}")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=no_display_env(DISPLAY=display), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"[E053] Cannot open a window: the X display '{display}' does not answer")
