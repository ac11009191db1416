"""Small builders shared by the core tests: fresh projects on real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

from annotator.core.importing import import_paths
from annotator.core.resources import seeds_dir
from annotator.core.store import Store


def seeded_store(tmp_path: Path, *, model: bool = False) -> Store:
    """A project file with the three sample articles (model suggestions only when asked: slower)."""
    store = Store(tmp_path / "project.db")
    import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=model)
    return store


def write_jsonl(path: Path, tasks: list[dict]) -> Path:
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks), encoding="utf-8")
    return path
