"""Importing with a trained run as the project's suggester: the window and the command line both
pre-annotate with the run, and only with the labels it learned. Regression: the window's import used the
stock model whatever the suggester, and the command line's gave the run's base model's other labels
(DATE, CARDINAL ...) too, which the run was neither trained nor scored on."""

from __future__ import annotations

from sqlalchemy import select
import shutil

import pytest
from test_model_loop import cli, trained, window_on  # noqa: F401 (fixtures)

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, Document, ModelRun, Span
from annotator.core.db.store import Store
from annotator.core.project import Project

TEXT = "On Monday 3 March, Seoul and Tokyo renewed GSOMIA for 12 months, and Manila signed ACSA."


def suggestions(store: Store, name: str) -> set[str]:
    with store.Session() as s:
        return set(s.scalars(select(Span.label).join(Document, Document.id == Span.document_id)
                             .join(Annotator, Annotator.id == Span.annotator_id)
                             .where(Document.name == name, Annotator.name == MODEL_LAYER)))


LEARNED = {"GPE", "AGREEMENT"}


@pytest.fixture(scope="module")
def places(trained, tmp_path_factory):  # noqa: F811
    """The trained project with a second run, "places", of two labels from the stock model, made the
    suggester."""
    folder = tmp_path_factory.mktemp("places") / "p"
    shutil.copytree(trained[0], folder)
    db = folder / "p.db"
    result = cli(db, "train", "--labels", "GPE,AGREEMENT", "--max-steps", 20, "--out", folder / "p.models" / "places")
    assert result.exit_code == 0, result.output
    assert cli(db, "models", "use", "places").exit_code == 0
    return folder


@pytest.fixture
def project_dir(places, tmp_path):
    shutil.copytree(places, tmp_path / "copy")
    return tmp_path / "copy"


def run_labels(store: Store) -> set[str]:
    with store.Session() as s:
        return set(s.scalar(select(ModelRun.labels).where(ModelRun.name == "places")))


def test_import_suggester_the_command_line_suggests_the_runs_labels_only(project_dir, tmp_path):  # noqa: F811
    db = project_dir / "p.db"
    article = tmp_path / "monday.txt"
    article.write_text(TEXT, encoding="utf-8")
    result = cli(db, "import", article)
    assert result.exit_code == 0, result.output
    store = Store(str(db))
    try:
        found = suggestions(store, "monday")
        assert found and found <= run_labels(store) == LEARNED
    finally:
        store.close()


def test_import_suggester_the_window_imports_with_the_suggester(project_dir, tmp_path, qtbot):  # noqa: F811
    db = project_dir / "p.db"
    article = tmp_path / "monday.txt"
    article.write_text(TEXT, encoding="utf-8")
    store = Store(str(db))
    w = window_on(Project(store, "rev"), 1, qtbot)
    try:
        assert w.import_paths([article], use_model=True)
        qtbot.waitUntil(lambda: not w.importer.running(), timeout=60_000)
        found = suggestions(store, "monday")
        assert found and found <= run_labels(store) == LEARNED
    finally:
        w.close()
        store.close()
