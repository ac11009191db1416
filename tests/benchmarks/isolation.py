"""Benchmarks leave the user's settings alone: Qt's settings (recent projects, last user, window
layout) go to a temporary folder for the benchmark and every process it starts.

`run.py` sets ENV and XDG_CONFIG_HOME for the benchmarks it runs; `isolate()`, called by a benchmark
before it makes a QApplication, points QSettings there too (on every platform: XDG_CONFIG_HOME only
moves them on Linux), making its own folder when run on its own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV = "ANNOTATOR_BENCH_SETTINGS"
# for code run in a child process (`python -c`): the same, without importing this module
PRELUDE = ("import os\nfrom PySide6.QtCore import QSettings\n"
           "for _f in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):\n"
           "    for _s in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):\n"
           f"        QSettings.setPath(_f, _s, os.environ['{ENV}'])\n")


def environment(folder: str | os.PathLike) -> dict[str, str]:
    """The variables that send a process's (and its children's) settings to `folder`."""
    return {ENV: str(folder), "XDG_CONFIG_HOME": str(folder)}


def as_installed(env: dict[str, str]) -> dict[str, str]:
    """`env` for a child timed as users run the app: with Python's bytecode cache. Some machines set
    PYTHONDONTWRITEBYTECODE, and then every child recompiles each of our modules changed since the
    last cache and times that too."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def isolate() -> Path:
    """Point this process's Qt settings, and its children's, at the temporary folder."""
    folder = os.environ.get(ENV) or tempfile.mkdtemp(prefix="annotator-bench-settings-")
    os.environ.update(environment(folder))
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, folder)
    return Path(folder)
