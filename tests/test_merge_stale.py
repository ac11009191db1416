"""Merging again: an older copy of a layer never silently replaces a later one; a link taken back there
is taken back from the alias counts here (io/merge_layers.py)."""

from __future__ import annotations

from test_merge import alias_counts, layer
from test_merge_again import merge_cli, weekly, work  # noqa: F401  (fixture)
from test_review import label, make_store

from annotator.core.db.store import Store

BACKENDS = ("sqlite",)


def test_a_colleague_file_carrying_an_older_copy_of_her_layer_does_not_revert_it(weekly, tmp_path):
    """Bob merged ana's first file into his own; ana then corrected her layer, and this project took
    her correction. Merging bob's file (which carries her layer as it was) must not put back her old
    version: the stored base is the version we last took, so ours == base and theirs "wins"."""
    ours, path = weekly
    bob_path = tmp_path / "bob.db"
    bob = make_store(bob_path, docs=(1,), file=True)
    bob.close()
    bob = Store(bob_path)
    merge_cli(bob, path)  # bob has her layer as it was (v1)
    bob.close()

    def correct(ana, d):
        ana.relabel(ana.spans(d)[0].id, "LOC")
    work(path, correct)
    merge_cli(ours, path)
    v2 = layer(ours, "ana", 1)
    assert [sp[2] for sp in v2] == ["LOC"]

    lines = merge_cli(ours, bob_path)
    assert any(line.startswith("Conflict, layer ana") for line in lines)  # said, not silently kept
    assert layer(ours, "ana", 1) == v2, "her later correction was replaced by bob's stale copy"


def test_her_link_taken_back_is_not_still_counted_toward_the_alias(weekly):
    """She linked South Korea (counted here once when merged), then deleted that span. Her own project's
    alias count went back down (the delete unlearned it); here her later version replaces the layer, but
    `fresh_links` only ever adds: the alias keeps counting a link nobody has any more."""
    ours, path = weekly
    keys = [("Q884", "South Korea")]
    before = alias_counts(ours, *keys)
    work(path, lambda ana, d: label(ana, d, "South Korea", "GPE", kb="Q884"))
    merge_cli(ours, path)
    assert alias_counts(ours, *keys) == [before[0] + 1]

    def take_back(ana, d):  # and labels on: her layer is at a version new here, so it is taken
        text = ana.document(d).text
        ana.delete_span(next(s.id for s in ana.spans(d) if text[s.start:s.end] == "South Korea"))
        label(ana, d, "Japan", "GPE")
    work(path, take_back)
    merge_cli(ours, path)
    assert [sp for sp in layer(ours, "ana", 1) if sp[3] == "Q884"] == []  # her later version came
    assert alias_counts(ours, *keys) == before, "the alias still counts her withdrawn link"
