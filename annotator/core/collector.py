"""Python's cyclic garbage collector paused around work that makes ~10^6 objects and no cycles (an
agreement report over 100,000 documents, an export's batches, the agreement command): each automatic
collection walks every object alive, again and again, for nothing to free. The pause is the
process's (a window's too, for as long), and the collector is left as it was found."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
