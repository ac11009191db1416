"""Review work in a background thread, so the window stays responsive: agreement over a large
corpus, listing disagreements, the provenance report, merging a colleague's file.

A `QtJobRunner` (ui/qt_jobs.py, which imports and exports use) for plain core calls `fn(store, *args)`
with no progress to report.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from annotator.errors import Errors
from annotator.ui.qt_jobs import QtJobRunner


def _call(fn: Callable[..., Any], args: tuple, store, _progress, _cancelled):
    return fn(store, *args)


class QtStoreTask(QtJobRunner):
    """One call at a time; `finished(result)` or `failed(message)` follows on the UI thread."""

    def start(self, url: str, fn: Callable[..., Any], *args, what: str = "The task") -> bool:
        """Start the call; False (and nothing started) while another one runs."""
        if self.running():
            return False
        self.unexpected = Errors.E311.format(task=what, error="{error}")
        return self.run_job(url, partial(_call, fn, args), what)
