"""Model runs as versions: each model trained on the project is a recorded run (a ModelRun row with a
name, its folder, what it saw and its scores), found again on open, listed, scored, and one of them
the project's suggester.

A run's folder is stored relative to the project file's folder when it lies beside it
(`PROJECT.models/RUN`), so a project moved with its models still finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from annotator.core.db.models import ModelRun
from annotator.core.db.store import Store
from annotator.core.editing.permissions import check_reviewer_view
from annotator.errors import AnnotatorError, Errors


@dataclass(frozen=True)
class RunInfo:
    id: int
    name: str
    path: Path  # resolved
    base: str
    documents: int
    labels: list[str]
    scores: dict
    active: bool
    created_at: str

    @property
    def exists(self) -> bool:
        return (self.path / "meta.json").is_file()


def models_folder(store: Store) -> Path:
    """Where runs go by default: PROJECT.models beside the project file (E607 on a server)."""
    if store.path is None:
        raise AnnotatorError(Errors.E607)
    return store.path.with_name(f"{store.path.stem}.models")


def _stored(store: Store, path: Path) -> str:
    """`path` relative to the project file's folder when inside it, else absolute."""
    path = path.resolve()
    if store.path is not None:
        base = store.path.resolve().parent
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def _resolved(store: Store, stored: str) -> Path:
    path = Path(stored)
    if not path.is_absolute() and store.path is not None:
        path = store.path.resolve().parent / path
    return path


def _info(store: Store, row: ModelRun) -> RunInfo:
    return RunInfo(row.id, row.name, _resolved(store, row.path), row.base or "", row.documents or 0,
                   list(row.labels or []), dict(row.scores or {}), bool(row.active),
                   row.created_at.strftime("%Y-%m-%d %H:%M"))


def runs(store: Store) -> list[RunInfo]:
    """Trained runs, oldest first (a pre-annotation at import is a run without a name: left out)."""
    with store.Session() as s:
        rows = s.scalars(select(ModelRun).where(ModelRun.name.is_not(None)).order_by(ModelRun.id))
        return [_info(store, r) for r in rows]


def taken(store: Store, name: str) -> bool:
    with store.Session() as s:
        return s.scalar(select(ModelRun.id).where(ModelRun.name == name)) is not None


def find_run(store: Store, name: str) -> RunInfo:
    """The run called `name`, or whose folder `name` is (the run's folder or its model-best) (E602),
    whose folder holds a pipeline (E603)."""
    with store.Session() as s:
        row = s.scalar(select(ModelRun).where(ModelRun.name == name))
        if row is None and Path(name).is_dir():
            folder = Path(name).resolve()
            row = next((r for r in s.scalars(select(ModelRun).where(ModelRun.name.is_not(None)))
                        if folder in (_resolved(store, r.path).resolve(), _resolved(store, r.path).resolve().parent)),
                       None)
        if row is None:
            known = ", ".join(s.scalars(select(ModelRun.name).where(ModelRun.name.is_not(None))
                                        .order_by(ModelRun.id))) or "(none yet: `annotator train`)"
            raise AnnotatorError(Errors.E602.format(name=name, known=known))
        info = _info(store, row)
    if not info.exists:
        raise AnnotatorError(Errors.E603.format(name=name, path=info.path))
    return info


def record_run(store: Store, *, name: str, path: Path, base: str, documents: int, labels: list[str],
               scores: dict) -> RunInfo:
    with store.atomic() as s:
        row = ModelRun(model_name=name, model_version="trained", name=name, path=_stored(store, path), base=base,
                       documents=documents, labels=sorted(labels), scores=scores, active=False)
        s.add(row)
        s.flush()
        return _info(store, row)


def use_run(store: Store, name: str, viewer: str | None = None) -> RunInfo:
    """Make the run the project's suggester (imports without --model use it); the others stop being.
    A project-wide choice: reviewers only (E164)."""
    info = find_run(store, name)
    with store.atomic() as s:
        if viewer is not None:
            check_reviewer_view(s, viewer, "choosing the project's suggester")
        s.execute(update(ModelRun).where(ModelRun.active, ModelRun.id != info.id).values(active=False))
        s.execute(update(ModelRun).where(ModelRun.id == info.id).values(active=True))
    return find_run(store, name)


def active_run(store: Store) -> RunInfo | None:
    """The run that is the project's suggester, if one is."""
    with store.Session() as s:
        row = s.scalar(select(ModelRun).where(ModelRun.active, ModelRun.name.is_not(None)))
        return _info(store, row) if row is not None else None
