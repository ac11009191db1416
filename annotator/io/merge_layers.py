"""The layers in a merge (io/merging.py): (annotator, document) units, merged three ways.

A unit's content is its spans' signatures (offsets, label, kb_id or NIL, status, referent note) and its
document state's status; never times. After a merge wrote a unit or found it the same in both files,
the SHA-256 of that content is kept here among the unit's versions (`merge_bases`, migration 0017). At
the next merge of a unit both files have:
- ours equals theirs: unchanged;
- theirs is the version the last merge left (they did not change it since): ours is kept, no conflict
  ("kept_newer");
- ours is that version (nobody here changed it since) and theirs is new here: theirs replaces it
  ("updated");
- theirs is an older version this project had (their file carries an older copy than a later merge
  brought, or they went back to it): a conflict, ours kept, never silently put back;
- else both changed (or there are no versions: a first merge, or one from before 0017): a conflict, ours
  kept — unless only the state differs, which is left as it is here (as before 0017).
Gold alike; `gold_taken` and `gold_kept` (their document ids) say whose gold stands, for the decisions.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict

from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from annotator.core.db.annotators import GOLD, MODEL_LAYER
from annotator.core.db.models import DocumentState, Entity, MergeBase, Span
from annotator.core.db.provenance_counts import refresh
from annotator.core.editing.spans import DOC_STATUSES
from annotator.core.records import LINK_SOURCES, NIL, SPAN_ORIGINS, SPAN_STATUSES
from annotator.formats.files import is_offset, label_problem
from annotator.io.merge_kb import teach
from annotator.io.merge_source import CHUNK, bad, chunks, utc

_SPAN_COPY = ("start", "end", "label", "nil", "referent_note", "origin", "status", "version", "link_source")
Unit = tuple[int, int]  # (annotator id, document id)


def digest(signatures: list[tuple], status: str | None) -> str:
    """A unit's content as 64 hex digits: its sorted span signatures and its state's status."""
    return hashlib.sha256(json.dumps([status, sorted(signatures)]).encode("utf-8")).hexdigest()


def bases(s, units: list[Unit]) -> dict[Unit, tuple[str, set[str]]]:
    """Of each of `units` (our ids) a merge left here: (the last version, the older ones)."""
    found: dict[Unit, list] = defaultdict(list)
    for chunk in chunks(sorted(units)):
        for r in s.execute(select(MergeBase.annotator_id, MergeBase.document_id, MergeBase.digest, MergeBase.seq)
                           .where(tuple_(MergeBase.annotator_id, MergeBase.document_id).in_(chunk))):
            found[(r.annotator_id, r.document_id)].append((r.seq, r.digest))
    out = {}
    for unit, versions in found.items():
        versions.sort()
        out[unit] = (versions[-1][1], {d for _, d in versions[:-1]})
    return out


def store_bases(s, new: dict[Unit, str]) -> None:
    """`new` as each unit's last version (a version seen again becomes the last again)."""
    table = MergeBase.__table__
    seq = (s.scalar(select(func.max(MergeBase.seq))) or 0) + 1
    stmt = (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    stmt = stmt.on_conflict_do_update(index_elements=["document_id", "annotator_id", "digest"],
                                      set_={"seq": stmt.excluded.seq})
    rows = [dict(annotator_id=a, document_id=d, digest=h, seq=seq) for (a, d), h in sorted(new.items())]
    for chunk in chunks(rows, CHUNK * 10):
        s.execute(stmt, chunk)


def _confirmed(r: dict) -> tuple | None:
    return ((r["document_id"], r["annotator_id"], r["start"], r["end"], r["entity_id"])
            if r["status"] == "accepted" and r["entity_id"] is not None and not r["nil"] else None)


def fresh_links(new: list[dict], old: list[dict]) -> list[dict]:
    """The rows of `new` whose confirmed link `old` (the spans they replace) did not have already: a
    link counted toward the aliases when it first came is not counted again. Swapped, the links `old`
    had that `new` has no more."""
    had = Counter(k for r in old if (k := _confirmed(r)) is not None)
    out = []
    for r in new:
        k = _confirmed(r)
        if k is not None and had[k] > 0:
            had[k] -= 1
        else:
            out.append(r)
    return out


class Layers:
    """The layer half of `_Merge` (its attributes: t, o, report, annotator, annotator_name, entity,
    their_kb, document, document_name, run_id, text_length, aliases_copied, gold_kept, gold_taken)."""

    def _their_spans(self) -> dict[Unit, list]:
        units: dict[Unit, list] = defaultdict(list)
        for r in self.t.execute(select(Span).order_by(Span.id)).scalars():
            self._check_span(r)
            units[(r.annotator_id, r.document_id)].append(r)
        return units

    def _check_span(self, r: Span) -> None:
        """A span of theirs inside its document's text, with a label, of a known origin and status."""
        what = f"span {r.id} ({r.start}-{r.end} {r.label!r})"
        length = self.text_length.get(r.document_id)
        if length is None or r.annotator_id not in self.annotator:
            raise bad(self.t.path, what, "belongs to no document or annotator there")
        if not (is_offset(r.start) and is_offset(r.end)) or not 0 <= r.start < r.end <= length:
            problem = f"lies outside its document's text ({length} characters) or is empty"
        else:
            problem = label_problem(r.label)
        if problem is None and (r.origin not in SPAN_ORIGINS or r.status not in SPAN_STATUSES
                                or not isinstance(r.nil, bool)):
            problem = f"has an unknown origin {r.origin!r} or status {r.status!r}"
        if problem is None and r.link_source is not None and r.link_source not in LINK_SOURCES:
            problem = f"has an unknown link source {r.link_source!r}"
        if problem is None and r.entity_id is not None and r.entity_id not in self.entity:
            problem = "links to an entity the file does not have"
        if problem:
            raise bad(self.t.path, what, problem)

    def _our_signatures(self, keys: list[Unit]) -> dict[Unit, list[tuple]]:
        """Spans here of the (annotator, document) units `keys` (our ids), as sorted signatures."""
        out: dict[Unit, list[tuple]] = defaultdict(list)
        by_doc: dict[int, set[int]] = defaultdict(set)
        for a, d in keys:
            by_doc[d].add(a)
        annotators = sorted({a for a, _ in keys})
        for chunk in chunks(sorted(by_doc)):
            rows = self.o.execute(select(Span.annotator_id, Span.document_id, Span.start, Span.end, Span.label,
                                         Span.nil, Span.status, Span.referent_note, Entity.kb_id)
                                  .outerjoin(Entity, Entity.id == Span.entity_id)
                                  .where(Span.document_id.in_(chunk), Span.annotator_id.in_(annotators)))
            for r in rows:
                if r.annotator_id in by_doc[r.document_id]:
                    kb = NIL if r.nil else r.kb_id
                    out[(r.annotator_id, r.document_id)].append((r.start, r.end, r.label, kb or "", r.status,
                                                                 r.referent_note or ""))
        return {k: sorted(v) for k, v in out.items()}

    def _signature(self, r: Span) -> tuple:
        kb = NIL if r.nil else self.their_kb.get(r.entity_id)
        return (r.start, r.end, r.label, kb or "", r.status, r.referent_note or "")

    def _span_rows(self, spans: list, oa: int, od: int) -> list[dict]:
        """Their spans of a unit as rows here: entities and model runs by this project's ids."""
        return [dict({f: getattr(r, f) for f in _SPAN_COPY}, created_at=utc(r.created_at), updated_at=utc(r.updated_at),
                     document_id=od, annotator_id=oa, entity_id=self.entity.get(r.entity_id),
                     model_run_id=self.run_id.get(r.model_run_id)) for r in spans]

    def layers(self) -> None:
        their_states = {(r.annotator_id, r.document_id): r for r in self.t.execute(select(DocumentState)).scalars()}
        for (a, d), r in their_states.items():
            if a not in self.annotator or d not in self.document or r.status not in DOC_STATUSES:
                raise bad(self.t.path, f"the state of document {d} for annotator {a}",
                           f"has an unknown annotator, document or status {r.status!r}")
        their_spans = self._their_spans()
        units = sorted(set(their_states) | set(their_spans))
        our_states = dict(((r.annotator_id, r.document_id), r.status) for r in self.o.execute(
            select(DocumentState.annotator_id, DocumentState.document_id, DocumentState.status)))
        mapped = [(self.annotator[a], self.document[d]) for a, d in units]
        our_span_units = self._our_signatures(mapped)
        had = bases(self.o, mapped)  # (last, older) versions of each unit a merge left here
        span_rows, state_rows, replaced, new_bases, copied = [], [], [], {}, 0
        for (a, d), (oa, od) in zip(units, mapped):
            spans = their_spans.get((a, d), [])
            state = their_states.get((a, d))
            theirs_sig = sorted(self._signature(r) for r in spans)
            theirs = digest(theirs_sig, state.status if state is not None else None)
            unit = (self.annotator_name[a], self.document_name[d])
            gold = self.annotator_name[a] == GOLD

            def take() -> None:  # their unit, whole, as the last version here
                span_rows.extend(self._span_rows(spans, oa, od))
                if state is not None:
                    state_rows.append(self._state_row(state, oa, od))
                new_bases[(oa, od)] = theirs
                if gold:
                    self.gold_taken.add(d)

            if (oa, od) not in our_states and (oa, od) not in our_span_units:  # only they have it: copied
                self.report.layers += 1
                copied += len(spans)
                take()
                continue
            ours_sig = our_span_units.get((oa, od), [])
            ours = digest(ours_sig, our_states.get((oa, od)))
            last, older = had.get((oa, od), (None, set()))
            if ours == theirs:
                self.report.unchanged += 1
                new_bases[(oa, od)] = ours
            elif theirs == last:  # they did not change it since the last merge: ours is newer
                self.report.kept_newer.append(unit)
                if gold:
                    self.gold_kept.add(d)
            elif ours == last and theirs not in older:  # nobody here changed it since: their later version
                self.report.updated.append(unit)
                replaced.append((oa, od))
                take()
            elif ours_sig == theirs_sig:  # the same spans, another state: ours stands, or theirs where we have none
                self.report.unchanged += 1
                if state is not None and (oa, od) not in our_states:
                    state_rows.append(self._state_row(state, oa, od))
                    new_bases[(oa, od)] = theirs
            else:
                self.report.layer_conflicts.append(unit)
                if gold:
                    self.gold_kept.add(d)
        old_rows = self._remove(replaced)
        for chunk in chunks(span_rows, CHUNK * 10):
            self.o.execute(insert(Span), chunk)
        for chunk in chunks(state_rows, CHUNK * 10):
            self.o.execute(insert(DocumentState), chunk)
        store_bases(self.o, new_bases)
        refresh(self.o, {r["document_id"] for r in span_rows + state_rows} | {d for _, d in replaced})
        self.report.spans, self.report.states = copied, len(state_rows)
        people = {self.annotator[a] for a, name in self.annotator_name.items() if name not in (GOLD, MODEL_LAYER)}
        new_rows = [r for r in span_rows if r["annotator_id"] in people]
        old_rows = [r for r in old_rows if r["annotator_id"] in people]
        self.report.learned_links = teach(self.o, fresh_links(new_rows, old_rows), self.aliases_copied)
        # their later version no longer has these links: as a delete there unlearned them, here too
        teach(self.o, fresh_links(old_rows, new_rows), self.aliases_copied, sign=-1)

    @staticmethod
    def _state_row(state: DocumentState, oa: int, od: int) -> dict:
        return dict(document_id=od, annotator_id=oa, status=state.status, seconds_spent=state.seconds_spent,
                    updated_at=utc(state.updated_at))

    def _remove(self, units: list[Unit]) -> list[dict]:
        """Delete the spans and states of `units` (our ids), as undoing a layer's opening does (nothing
        else refers to a span); their spans as they were, for the alias counts."""
        old = []
        by_annotator: dict[int, list[int]] = defaultdict(list)
        for a, d in units:
            by_annotator[a].append(d)
        for a, docs in sorted(by_annotator.items()):
            for chunk in chunks(sorted(docs)):
                where = (Span.annotator_id == a, Span.document_id.in_(chunk))
                old += [r._asdict() for r in self.o.execute(select(
                    Span.document_id, Span.annotator_id, Span.start, Span.end, Span.entity_id, Span.status, Span.nil)
                    .where(*where))]
                self.o.execute(delete(Span).where(*where))
                self.o.execute(delete(DocumentState).where(DocumentState.annotator_id == a,
                                                           DocumentState.document_id.in_(chunk)))
        return old
