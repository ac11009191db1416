"""`annotator stats`: link figures per layer and label (linked, suggested link, NIL, unlinked), exact."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.annotators import set_role
from annotator.core.db.models import Entity
from annotator.core.project import Project
from annotator.core.stats import stats
from annotator.io.kb_transfer import load_starter
from plans import plan_of, statements


def entity(store, kb_id: str) -> int:
    with store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


@pytest.fixture
def linked(project):
    """The tester's layer of the first article (conftest: PERSON Kim Kwan-jin and Naoki Tanaka, GPE Japan
    and South Korea) with the starter KB, which suggests links for Kim, Japan and South Korea. Then: Kim
    confirmed, South Korea's suggestion rejected (unlinked), three GPE "Seoul": one linked, one NIL, one
    left unlinked. A colleague's layer has one NIL ORG."""
    store = project.store
    load_starter(store)
    doc = project.documents()[0].id
    project.open_document(doc)
    text = project.document(doc).text
    by_text = {text[s.start:s.end]: s for s in project.spans(doc)}
    assert {t: (s.entity_id is not None, s.status) for t, s in by_text.items()} == {
        "Kim Kwan-jin": (True, "suggested"), "Naoki Tanaka": (False, "accepted"),
        "Japan": (True, "suggested"), "South Korea": (True, "suggested")}
    project.link(by_text["Kim Kwan-jin"].id, entity(store, "local:kim-kwan-jin"))
    project.unlink(by_text["South Korea"].id)
    seouls = [i for i in range(len(text)) if text.startswith("Seoul", i)][:3]
    first, nil, _third = (project.add_span(doc, at, at + 5, "GPE") for at in seouls)
    project.link(first, entity(store, "local:government-of-south-korea"))
    project.mark_nil(nil)
    colleague = Project(store, "cy")
    colleague.open_document(doc)
    org = colleague.add_span(doc, 0, 5, "ORG")
    colleague.mark_nil(org)
    return project


def test_stats_counts_links_per_layer_and_label(linked):
    layers = stats(linked.store)["layers"]
    assert layers["tester"]["links"] == {
        "GPE": {"linked": 1, "suggested": 1, "nil": 1, "unlinked": 2},
        "PERSON": {"linked": 1, "suggested": 0, "nil": 0, "unlinked": 1},
    }
    assert layers["cy"]["links"] == {"ORG": {"linked": 0, "suggested": 0, "nil": 1, "unlinked": 0}}
    for layer in layers.values():  # every span is in exactly one kind
        assert {k: sum(v.values()) for k, v in layer["links"].items()} == layer["by_label"]
    assert {k: vars(v) for k, v in linked.link_stats().items()} == layers["tester"]["links"]


def test_stats_cli_json_and_text_show_link_counts(linked):
    db = str(linked.store.path)
    set_role(linked.store, "rev", "reviewer")  # every layer's figures are for reviewers (blind annotation)
    data = json.loads(CliRunner().invoke(main, ["--db", db, "--user", "rev", "stats", "--json"]).output)
    assert data["layers"]["tester"]["links"]["GPE"] == {"linked": 1, "suggested": 1, "nil": 1, "unlinked": 2}
    result = CliRunner().invoke(main, ["--db", db, "--user", "rev", "stats"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    at = lines.index("Layer cy: 1 spans (0 suggested) — ORG 1")
    assert lines[at + 1] == "  ORG: 0 linked, 0 links suggested, 1 NIL, 0 unlinked"
    at = lines.index("Layer tester: 7 spans (1 suggested) — GPE 5, PERSON 2")
    assert lines[at + 1:at + 3] == ["  GPE: 1 linked, 1 link suggested, 1 NIL, 2 unlinked",
                                    "  PERSON: 1 linked, 0 links suggested, 0 NIL, 1 unlinked"]


def test_stats_cli_is_blind_for_an_annotator(linked):
    """An annotator's `stats` has their own layer's and the model's figures, never a colleague's."""
    db = str(linked.store.path)
    data = json.loads(CliRunner().invoke(main, ["--db", db, "--user", "cy", "stats", "--json"]).output)
    assert set(data["layers"]) == {"cy"} and set(data["annotators"]) == {"cy"} and data["blind"] is True
    assert set(data.get("provenance", {})) <= {"cy"}
    assert data["layers"]["cy"]["links"] == {"ORG": {"linked": 0, "suggested": 0, "nil": 1, "unlinked": 0}}
    text = CliRunner().invoke(main, ["--db", db, "--user", "cy", "stats"]).output.splitlines()
    assert not any(line.startswith("Layer tester") or line.startswith("Annotator tester") for line in text)
    assert text[-1] == ("Only your own layer and the model's are shown: annotation is blind (a reviewer sees "
                        "every layer).")


def test_stats_counts_spans_from_the_index_in_its_order(linked):
    """The count per layer, label, status and link state reads only ix_spans_layer_counts, grouped by a
    prefix of it: no sort of every span (the old GROUP BY on a link-state expression sorted 3 M rows)."""
    with statements(linked.store) as seen:
        stats(linked.store)
    found = plan_of(linked.store, seen, "FROM spans", "GROUP BY")
    assert "COVERING INDEX ix_spans_layer_counts" in found and "TEMP B-TREE" not in found
