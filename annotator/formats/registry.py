"""Formats by name. Each format is a module with `read(path) -> list[DocRecord]` and
`write(docs, out) -> FormatReport`; modules are imported on first use so that exporting JSONL
never pays for importing spaCy. What callers need before that (file or folder, documents or a
knowledge base) is listed here, so the export dialog can offer the formats without importing them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from annotator.errors import AnnotatorError, Errors


@dataclass(frozen=True)
class Format:
    module: str
    title: str  # what the export dialog shows beside the name
    suffix: str  # of the file written, as the module's SUFFIX; "" when the format writes a folder
    tokens: bool = False  # spans are placed on tokens: those off token boundaries are reported
    documents: bool = True  # False: a knowledge base, written by `annotator kb export`, not `export`
    status: bool = True  # a span can be marked as an unchecked suggestion (else suggestions are left out)
    # a token can be marked "not annotated" (DocBin: missing), as an unchecked suggestion's tokens must be;
    # a token format without it would write them as O, non-entities: exporting.py leaves such documents out
    missing: bool = False
    notes: bool = False  # a span's "Refers to" note is written (elsewhere exporting.py counts it as left out)

    @property
    def folder(self) -> bool:
        return not self.suffix


FORMATS: dict[str, Format] = {
    "jsonl": Format("annotator.formats.jsonl", "Prodigy-style JSONL", ".jsonl", notes=True),
    "spacy": Format("annotator.formats.spacy_docbin", "spaCy DocBin, for spacy train", ".spacy", tokens=True,
                    missing=True),
    "brat": Format("annotator.formats.brat", "brat standoff, .txt and .ann per document", ""),
    "conll": Format("annotator.formats.conll", "CoNLL-2003, IOB2 tags", ".conll", tokens=True, status=False),
    "doccano": Format("annotator.formats.doccano", "doccano JSONL", ".jsonl", status=False),
    "labelstudio": Format("annotator.formats.labelstudio", "Label Studio JSON tasks", ".json"),
    "xmi": Format("annotator.formats.xmi", "UIMA CAS XMI, for INCEpTION", ""),
    "spacy-kb": Format("annotator.formats.spacy_kb", "spaCy knowledge base", "", documents=False),
}


def info(name: str, also: tuple[str, ...] = ()) -> Format:
    """What the registry knows of format `name`, or E040 listing the formats a user may give `import
    --format` (with `also`: auto, txt) or `export --format`: the document formats, not spacy-kb (a
    knowledge base, `annotator kb export` writes it: listed, it was then refused by E042)."""
    if name not in FORMATS:
        raise AnnotatorError(Errors.E040.format(fmt=name, known=", ".join([*also, *export_names()])))
    return FORMATS[name]


def get(name: str) -> ModuleType:
    """The module implementing format `name`, or a coded error listing the known ones."""
    return importlib.import_module(info(name).module)


def names() -> list[str]:
    return sorted(FORMATS)


def export_names() -> list[str]:
    """The formats `annotator export` writes documents in (spacy-kb is a knowledge base)."""
    return [name for name in names() if FORMATS[name].documents]
