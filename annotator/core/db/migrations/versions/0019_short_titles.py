"""titles of one-line texts shortened

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05

A document's title, when its file gave none, was its text's first non-empty line, whole: for a text
of one line (common in JSONL) the text itself, kept twice and written twice into every export that
carries titles. Such titles are cut to 120 code points after a word, with "…" (core/text.py
title_of). Only a title that is the text's first line is changed: a title a file gave is kept as it
came, and what is cut off is still the start of the text. The rules are frozen here.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None
_MAX = 120
_BATCH = 500


def _first_line(text: str) -> str:
    """The title rule before 0019: the first non-empty line, stripped."""
    for line in text.split("\n"):
        if line.strip():
            return line.strip()
    return ""


def _short(line: str) -> str:
    """The title rule of 0019 for a first line longer than _MAX."""
    cut = line[:_MAX - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > _MAX // 2 else cut).rstrip() + "…"


def upgrade() -> None:
    conn = op.get_bind()
    ids = conn.execute(sa.text("SELECT id FROM documents WHERE length(title) > :n ORDER BY id"), {"n": _MAX})
    ids = ids.scalars().all()
    read = sa.text("SELECT id, title, text FROM documents WHERE id IN :ids")
    read = read.bindparams(sa.bindparam("ids", expanding=True))
    for k in range(0, len(ids), _BATCH):
        rows = conn.execute(read, {"ids": ids[k:k + _BATCH]}).all()
        changed = [{"id": i, "title": _short(title)} for i, title, text in rows if title == _first_line(text)]
        if changed:
            conn.execute(sa.text("UPDATE documents SET title = :title WHERE id = :id"), changed)


def downgrade() -> None:
    pass  # the cut titles are the start of their texts' first lines; nothing is lost
