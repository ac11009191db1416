"""The project's tables (SQLAlchemy 2.0 typed ORM). The schema itself is created by Alembic
(`core/migrations`); a test checks that the migrations and these classes agree."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, false, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


# Tables whose rows an undo or redo puts back with their old id (a deleted span, a merged entity, its
# folded aliases): on SQLite their ids are never given twice (AUTOINCREMENT), or a row someone added
# meanwhile could take the id back first. PostgreSQL's sequences never give an id twice anyway.
NEVER_REUSED = {"sqlite_autoincrement": True}


class Document(Base):
    """An imported article. `text` never changes after import: span offsets index into it."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # Token boundaries as packed little-endian int32 (start, end) pairs: snapping and token formats
    # need them, and storing them keeps spaCy out of the window's start-up.
    tokens: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Annotator(Base):
    """A user, or a model: each owns one layer of spans."""

    __tablename__ = "annotators"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="annotator")  # annotator | reviewer
    is_model: Mapped[bool] = mapped_column(Boolean, default=False)


class Label(Base):
    """The project's label scheme."""

    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    colour: Mapped[str] = mapped_column(String(9))
    shortcut: Mapped[str | None] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # not offered for new spans


class Entity(Base):
    """A canonical entity of the knowledge base."""

    __tablename__ = "entities"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(primary_key=True)
    kb_id: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("annotators.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    aliases: Mapped[list[Alias]] = relationship(back_populates="entity", cascade="all, delete-orphan")


class Alias(Base):
    """A surface text known to name an entity; `count` is how often analysts linked it (the prior)."""

    __tablename__ = "aliases"
    __table_args__ = (UniqueConstraint("entity_id", "text"), Index("ix_aliases_norm_count", "norm", "count"),
                      NEVER_REUSED)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    norm: Mapped[str] = mapped_column(Text, index=True)  # casefolded text, for exact look-up
    count: Mapped[int] = mapped_column(Integer, default=0)
    # who added it (None: imported with the KB); on a team server annotators may remove only their own
    created_by: Mapped[int | None] = mapped_column(ForeignKey("annotators.id"))
    entity: Mapped[Entity] = relationship(back_populates="aliases")


class ModelRun(Base):
    """One model run: which model made the model layer's spans, and when. A run trained on the
    project (`annotator train`) also has a name, its folder, what it saw and its scores."""

    __tablename__ = "model_runs"
    __table_args__ = (Index("ix_model_runs_name", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str | None] = mapped_column(String(255))  # a trained run's name, unique
    path: Mapped[str | None] = mapped_column(Text)  # its folder, relative to the project file's folder if beside it
    base: Mapped[str | None] = mapped_column(String(255))  # the model it started from, or "blank"
    documents: Mapped[int | None] = mapped_column(Integer)  # documents it was trained on
    labels: Mapped[list[str] | None] = mapped_column(JSON)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # on the held-out documents
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # the suggester


# a span that counts as checked on the progress dashboard: accepted, and not an untouched import
CHECKED = "status = 'accepted' AND (origin != 'import' OR version > 1)"


class Span(Base):
    """An entity mention in one annotator's layer; offsets are code points, end exclusive."""

    __tablename__ = "spans"
    # a document's layer, in order; covers what provenance compares (offsets, label, status)
    __table_args__ = (Index("ix_spans_document_layer", "document_id", "annotator_id", "start", "end", "label",
                            "status"),
                      Index("ix_spans_entity", "entity_id"),
                      # stats count spans per layer, label, status and link state from this index alone
                      Index("ix_spans_layer_counts", "annotator_id", "label", "status", "nil", "entity_id"),
                      # a search by label walks a layer's spans of that label in document order (0013)
                      Index("ix_spans_layer_label", "annotator_id", "label", "document_id", "start", "end"),
                      # the dashboard's "spans checked": only those rows (0013; core/progress.py)
                      Index("ix_spans_checked", "annotator_id", "updated_at", "status", "origin", "version",
                            sqlite_where=text(CHECKED), postgresql_where=text(CHECKED)),
                      NEVER_REUSED)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id", ondelete="SET NULL"))
    nil: Mapped[bool] = mapped_column(Boolean, default=False)
    referent_note: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default="human")  # records.SPAN_ORIGINS
    status: Mapped[str] = mapped_column(String(16), default="accepted")  # suggested | accepted
    model_run_id: Mapped[int | None] = mapped_column(ForeignKey("model_runs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # who chose the link (entity or NIL): records.LINK_SOURCES; NULL unknown, or no link (0018)
    link_source: Mapped[str | None] = mapped_column(String(16))


class DocumentState(Base):
    """How far one annotator is with one document."""

    __tablename__ = "document_states"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | in_progress | done
    seconds_spent: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Event(Base):
    """Append-only history of edits: audit, and undo across restarts."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_annotator", "annotator_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    command: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)


class ProjectSetting(Base):
    """A project-wide setting, e.g. the annotation guidelines (Markdown): readable by every member."""

    __tablename__ = "project_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("annotators.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProvenanceCount(Base):
    """How one analyst changed the model's suggestions in one document, per label: kept up to date by
    core/db/provenance_counts.py as spans change (a row only where some count is not 0)."""

    __tablename__ = "provenance_counts"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    relabelled: Mapped[int] = mapped_column(Integer, default=0)
    boundary: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    suggested: Mapped[int] = mapped_column(Integer, default=0)


class ProvenanceTotal(Base):
    """`ProvenanceCount` summed per analyst and label: what `annotator stats` and the dashboard read."""

    __tablename__ = "provenance_totals"
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    relabelled: Mapped[int] = mapped_column(Integer, default=0)
    boundary: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    suggested: Mapped[int] = mapped_column(Integer, default=0)


class SpanTallies:
    """A pair of layers' accepted spans: how many each has, and how many match exactly, overlap, are
    linked in both, and to the same entity (per document in AgreementPair and per label in LabelCounts)."""

    n_a: Mapped[int] = mapped_column(Integer, default=0)
    n_b: Mapped[int] = mapped_column(Integer, default=0)
    exact: Mapped[int] = mapped_column(Integer, default=0)
    overlap: Mapped[int] = mapped_column(Integer, default=0)
    linked: Mapped[int] = mapped_column(Integer, default=0)
    same_link: Mapped[int] = mapped_column(Integer, default=0)


class AgreementPair(SpanTallies, Base):
    """Agreement counts of two people's layers on one document (layer_a < layer_b), or of one layer
    with itself (layer_a == layer_b: its tokens' tag counts dotted with themselves, its accepted
    spans). Kept by core/review/tallies.py; `agreement_stale` lists documents still to count."""

    __tablename__ = "agreement_pairs"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    layer_a: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    layer_b: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    disagree: Mapped[int] = mapped_column(Integer, default=0)
    dot: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    context: Mapped[str] = mapped_column(Text, default="")  # the document's layers and states (`AgreementTotal`)


class LabelCounts(SpanTallies):
    """The counts one label has in a pair of layers: span tallies, each layer's B-/I- token counts and
    the 2 x 2 block of their confusion matrix (per document in AgreementLabel, summed in AgreementTotal)."""

    a_b: Mapped[int] = mapped_column(Integer, default=0)
    a_i: Mapped[int] = mapped_column(Integer, default=0)
    b_b: Mapped[int] = mapped_column(Integer, default=0)
    b_i: Mapped[int] = mapped_column(Integer, default=0)
    bb: Mapped[int] = mapped_column(Integer, default=0)
    bi: Mapped[int] = mapped_column(Integer, default=0)
    ib: Mapped[int] = mapped_column(Integer, default=0)
    ii: Mapped[int] = mapped_column(Integer, default=0)


class AgreementLabel(LabelCounts, Base):
    """`AgreementPair`'s counts for one label (a row only where one is not 0): span tallies, each
    layer's B-/I- token counts and the 2 x 2 block of their confusion matrix."""

    __tablename__ = "agreement_labels"
    # stored in (pair, label) order: the sums per pair and label read it in order, without a sort
    __table_args__ = (Index("ix_agreement_labels_document", "document_id"), {"sqlite_with_rowid": False})
    layer_a: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    layer_b: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)


class AgreementTotal(LabelCounts, Base):
    """`AgreementLabel` summed per pair, label and context: which people's layers hold the documents
    and in which state ("id:done,id:in_progress,id:spans"), what decides whether and how much a
    document counts for a status filter and an annotator subset."""

    __tablename__ = "agreement_totals"
    layer_a: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    layer_b: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)
    context: Mapped[str] = mapped_column(Text, primary_key=True)


class AgreementStale(Base):
    """A document whose layers changed since its agreement counts were taken (core/db/provenance_counts.py
    `refresh` queues it; the next agreement counts it again)."""

    __tablename__ = "agreement_stale"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)


class EditSeconds(Base):
    """Time spent per person and UTC day (YYYY-MM-DD), in microseconds: kept up to date by
    core/db/edit_seconds.py as events are written (a row for every day with an edit of a document)."""

    __tablename__ = "edit_seconds"
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    micros: Mapped[int] = mapped_column(BigInteger, default=0)


class MergeBase(Base):
    """A version a layer document (annotator, document) had right after a merge wrote it or found it the
    same in both files: the SHA-256 of its spans' signatures and its state's status (io/merge_layers.py),
    an ancestor for the next merge's three-way comparison (a row per version the unit has had here)."""

    __tablename__ = "merge_bases"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)  # the merge that left this version last: larger is later
