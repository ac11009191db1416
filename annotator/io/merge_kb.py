"""The knowledge base in a merge (io/merging.py): knowledge-base merges on either side, and what their
links teach the aliases here."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.core.db.models import Document, Event
from annotator.core.kb.entities import normalize
from annotator.core.kb.linking import MergeEntities, learn
from annotator.io.merge_source import chunks


def _merges(rows) -> tuple[dict[int, int], dict[str, int]]:
    """(source id -> target id, source kb_id -> source id) of the merge_entities payloads that stand."""
    into, source = {}, {}
    for (payload,) in rows:
        merged = payload.get("source") or {} if isinstance(payload, dict) else {}
        if "id" in merged and merged.get("kb_id"):
            into[merged["id"]], source[merged["kb_id"]] = payload.get("target_id"), merged["id"]
    return into, source


def _last(into: dict[int, int], entity: int) -> int:
    seen = set()
    while entity in into and entity not in seen:
        seen.add(entity)
        entity = into[entity]
    return entity


_STANDING = select(Event.payload).where(Event.command == MergeEntities.name, Event.undone.is_(False)).order_by(Event.id)


def merged_into(ours: Session, here: dict[str, Any]) -> dict[str, Any]:
    """kb_id -> the entity here (a row of `here`, kb_id -> row) it was merged into, by this project's
    knowledge-base merges that stand (followed to the last when the target was merged on)."""
    into, source = _merges(ours.execute(_STANDING))
    by_id = {r.id: r for r in here.values()}
    return {kb_id: by_id[last] for kb_id, entity in source.items()
            if kb_id not in here and (last := _last(into, entity)) in by_id}


def not_merged_here(theirs, kb_here: set[str], their_kb: dict[int, str]) -> list[tuple[str, str]]:
    """(kb_id, kb_id it was merged into) of their knowledge-base merges that stand where both entities are
    still here: nothing here is changed by a merge, so the report names them."""
    into, source = _merges(theirs.execute(_STANDING))
    out = []
    for kb_id, entity in source.items():
        target = their_kb.get(_last(into, entity))
        if kb_id in kb_here and target in kb_here and target != kb_id:
            out.append((kb_id, target))
    return out


def teach(ours: Session, span_rows: list[dict], copied: set[tuple[int, str]], sign: int = 1) -> int:
    """Count the confirmed links among `span_rows` (people's spans copied here) toward the aliases here,
    as each link did there and as an import's do; an alias in `copied` ((entity, normal form), copied
    from them with their count) has them already. `sign` -1 takes withdrawn links back out. Returns
    how many were counted."""
    links = [r for r in span_rows if r["status"] == "accepted" and r["entity_id"] is not None and not r["nil"]]
    taught: Counter = Counter()
    for chunk in chunks(sorted({r["document_id"] for r in links})):
        texts = dict(ours.execute(select(Document.id, Document.text).where(Document.id.in_(chunk))).all())
        for r in links:
            if r["document_id"] in texts:
                taught[(r["entity_id"], texts[r["document_id"]][r["start"]:r["end"]])] += 1
    counted = 0
    for (entity_id, text), n in sorted(taught.items()):
        if (entity_id, normalize(text)) not in copied:
            learn(ours, entity_id, text, sign * n)
            counted += n
    return counted
