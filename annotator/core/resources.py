"""Shipped data (label scheme, style sheet, icons, sample corpus), found next to the package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(name: str) -> Path:
    """A file from `resources/`; a missing one fails loudly with its name."""
    path = Path(str(files("annotator.resources") / name))
    if not path.exists():
        raise FileNotFoundError(f"Resource '{name}' is missing from {path.parent}; reinstall the annotator.")
    return path


def seeds_dir() -> Path:
    """The bundled sample articles and starter knowledge base."""
    return Path(str(files("annotator.seeds")))
