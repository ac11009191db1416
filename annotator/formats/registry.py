"""Formats by name. Each format is a module with `read(path) -> list[DocRecord]` and
`write(docs, out) -> FormatReport`; modules are imported on first use so that exporting JSONL
never pays for importing spaCy."""

from __future__ import annotations

import importlib
from types import ModuleType

from annotator.errors import AnnotatorError, Errors

FORMATS: dict[str, str] = {
    "jsonl": "annotator.formats.jsonl",
    "spacy": "annotator.formats.spacy_docbin",
    "brat": "annotator.formats.brat",
    "conll": "annotator.formats.conll",
    "doccano": "annotator.formats.doccano",
    "labelstudio": "annotator.formats.labelstudio",
    "xmi": "annotator.formats.xmi",
    "spacy-kb": "annotator.formats.spacy_kb",  # a knowledge base: see `annotator kb export`
}


def get(name: str) -> ModuleType:
    """The module implementing format `name`, or a coded error listing the known ones."""
    if name not in FORMATS:
        raise AnnotatorError(Errors.E040.format(fmt=name, known=", ".join(sorted(FORMATS))))
    return importlib.import_module(FORMATS[name])


def names() -> list[str]:
    return sorted(FORMATS)
