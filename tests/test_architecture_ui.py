"""The window talks to the core through `Project` (and the review windows through core/review/facade.py):
no ui module queries the database itself, and errors are told apart by type, not by code string."""

import ast
from pathlib import Path

import pytest
from test_review_adjudication import by_kind, case  # noqa: F401 (a fixture)

from annotator.core.project import Project
from annotator.core.review.facade import Review
from annotator.errors import ConflictError, DecisionTaken

UI = Path(__file__).parent.parent / "annotator" / "ui"

# What a ui module may still import from the database layer, and why.
ALLOWED = {("qt_jobs", "annotator.core.db.store"): "a worker thread opens its own connection"}
FORBIDDEN_MODULES = ("sqlalchemy", "annotator.core.db.models", "annotator.core.db.store", "annotator.core.db.schema")
FORBIDDEN_CALLS = {"Session", "atomic", "connect_db", "execute", "scalar", "scalars"}  # session and query calls
FORBIDDEN_ATTRIBUTES = {"engine", "code"}  # a raw connection; matching an error by its code string


def violations(name: str, source: str) -> list[str]:
    """What in one ui module's source reaches past the facade."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported = [(a.name, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported = [(node.module, f"{node.module}.{a.name}") for a in node.names]
        else:
            imported = []
        for module, full in imported:
            if any(full.startswith(m + ".") or full == m for m in FORBIDDEN_MODULES) and (name, module) not in ALLOWED:
                found.append((node.lineno, f"imports {module}"))
                break
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FORBIDDEN_CALLS:
            found.append((node.lineno, f"calls .{node.func.attr}()"))
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append((node.lineno, f"reads .{node.attr}"))
    return [f"{name}:{line} {what}" for line, what in sorted(found)]


def test_architecture_ui_queries_only_through_the_project():
    found = [v for path in sorted(UI.glob("*.py")) for v in violations(path.stem, path.read_text())]
    assert found == [], "add a Project method (or a core/review/facade.py one) and call that"


def test_architecture_ui_checker_sees_a_session_a_query_and_a_code_match():
    source = ("from sqlalchemy import select\n"
              "from annotator.core.db.models import Span\n"
              "def f(project, e):\n"
              "    with project.store.Session() as s:\n"
              "        s.execute(select(Span))\n"
              "    with project.store.engine.connect():\n"
              "        pass\n"
              "    return e.code == 'E037'\n")
    assert violations("qt_x", source) == [
        "qt_x:1 imports sqlalchemy", "qt_x:2 imports annotator.core.db.models", "qt_x:4 calls .Session()",
        "qt_x:5 calls .execute()", "qt_x:6 reads .engine", "qt_x:8 reads .code"]
    assert violations("qt_jobs", "from annotator.core.db.store import Store\n") == []
    assert violations("qt_app", "from annotator.core.db.store import Store\n") != []


def test_architecture_ui_a_decision_taken_first_is_a_conflict_by_type(case):  # noqa: F811 (the fixture)
    """The adjudication view reloads on a ConflictError; E160 (another reviewer decided first) is one."""
    store, d = case
    first, second = Project(store, "rev"), Project(store, "rev2", role="reviewer")
    mine, theirs = Review(first), Review(second)
    assert mine.adjudication_annotators(d) == ["ana", "bob"]
    stale = mine.adjudicate(d, ["ana", "bob"])
    region = by_kind(stale)["label"]
    theirs.adjudicate(d, ["ana", "bob"]).take(region, "bob")
    with pytest.raises(ConflictError) as e:
        stale.take(region, "ana")
    assert isinstance(e.value, DecisionTaken) and e.value.code == "E160" and "rev2" in str(e.value)
    assert e.value.region == (region.start, region.end) and e.value.row_id == d
