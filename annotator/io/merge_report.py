"""What `annotator merge` reports (io/merging): what was added or brought up to their later version,
documents renamed, and the conflicts where this project's version was kept. The command line prints
it; the window shows it (qt_merge)."""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, field

from annotator.core.words import plural


@dataclass(frozen=True)
class EntityConflict:
    kb_id: str
    ours: dict[str, str]  # name, type, description
    theirs: dict[str, str]

    def difference(self) -> str:
        return "; ".join(f"{k}: {self.ours[k]!r} here, {self.theirs[k]!r} there"
                         for k in self.ours if self.ours[k] != self.theirs[k])


@dataclass(frozen=True)
class LabelConflict:
    name: str
    ours: dict[str, str]  # colour, description, hidden
    theirs: dict[str, str]

    difference = EntityConflict.difference


@dataclass
class MergeReport:
    source: str
    annotators: list[str] = field(default_factory=list)  # new here
    labels: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # added (names as stored here)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (their name, name here)
    entities: list[str] = field(default_factory=list)  # kb_ids added
    merged_away: list[tuple[str, str]] = field(default_factory=list)  # (their kb_id, kb_id here it was merged into)
    not_merged: list[tuple[str, str]] = field(default_factory=list)  # their KB merges: (kb_id, into), both here
    aliases: int = 0
    learned_links: int = 0  # their links in the layers copied, counted toward aliases here
    model_runs: int = 0
    renamed_runs: list[tuple[str, str]] = field(default_factory=list)  # trained runs: (their name, name here)
    settings: list[str] = field(default_factory=list)  # project settings copied (keys: "guidelines")
    layers: int = 0  # (layer, document) units copied
    spans: int = 0  # of the units copied
    states: int = 0
    events: int = 0
    unchanged: int = 0  # units both files have with the same spans
    updated: list[tuple[str, str]] = field(default_factory=list)  # (layer, document): theirs, later, replaced ours
    kept_newer: list[tuple[str, str]] = field(default_factory=list)  # (layer, document): changed here only; kept
    events_updated: int = 0  # copies here of their events, undone or redone there since
    entity_conflicts: list[EntityConflict] = field(default_factory=list)
    label_conflicts: list[LabelConflict] = field(default_factory=list)
    layer_conflicts: list[tuple[str, str]] = field(default_factory=list)  # (layer, document): kept ours
    not_carried: Counter = field(default_factory=Counter)  # "brat relations": n, of documents here already
    setting_conflicts: list[str] = field(default_factory=list)  # keys both have, differently: kept ours
    roles_not_given: list[str] = field(default_factory=list)  # new here, reviewers there: added as annotators
    team: bool = False  # merged into a team server (roles are the admin's to give)

    @property
    def conflicts(self) -> int:
        """Entities, labels, layer documents and project settings where this project's version was kept."""
        return (len(self.entity_conflicts) + len(self.label_conflicts) + len(self.layer_conflicts)
                + len(self.setting_conflicts))

    @property
    def added_anything(self) -> bool:
        return bool(self.annotators or self.labels or self.documents or self.entities or self.aliases
                    or self.model_runs or self.layers or self.states or self.events or self.settings
                    or self.updated or self.events_updated)

    def summary(self) -> str:
        """One line: what was added (the CLI prints it; the window shows it)."""
        return (f"Merged {self.source}: {plural(len(self.documents), 'document')}, "
                f"{plural(self.layers, 'layer document')} with {plural(self.spans, 'span')}, "
                f"{plural(len(self.updated), 'layer document')} brought up to their later version, "
                f"{plural(len(self.entities), 'entity')}, {plural(self.aliases, 'alias')}, "
                f"{plural(len(self.annotators), 'annotator')}, {plural(len(self.labels), 'label')}, "
                f"{plural(self.events, 'history event')} added.")

    def role_notes(self) -> list[str]:
        """A merge grants no role: who was a reviewer there came as an annotator, and how to change that."""
        how = ("`annotator db users add {name} --role reviewer` (the admin)" if self.team
               else "`annotator role {name} reviewer` (a reviewer or the project's owner)")
        return [f"{name} is a reviewer in {self.source}; added here as an annotator (a merge gives no role): "
                + how.format(name=shlex.quote(name)) + " makes them a reviewer here."
                for name in self.roles_not_given]

    def notes(self) -> list[str]:
        """Renamed documents and conflicts, a line each; what was kept is always this project's."""
        lines = [] if self.added_anything else ["Nothing new: everything in it is already here."]
        lines += self.role_notes()
        lines += [f"Document '{theirs}' is '{here}' here (the name was taken by another text)."
                  for theirs, here in self.renamed]
        if self.not_carried:
            lost = ", ".join(f"{what} {n}" for what, n in sorted(self.not_carried.items()))
            lines.append(f"Not kept, the documents were already here (only their layers came): {lost}.")
        if self.learned_links:
            lines.append(f"Counted {self.learned_links} of their links toward the aliases of their entities.")
        lines += [f"Model run '{theirs}' is '{here}' here (the name was taken by another run)."
                  for theirs, here in self.renamed_runs]
        lines += [f"The project's {key} came from it (this project had none)." for key in self.settings]
        lines += [f"Conflict, the project's {key}: both files have them and they differ; kept this one."
                  for key in self.setting_conflicts]
        lines += [f"Entity {theirs} was merged into {here} here: their mentions of it link to {here}."
                  for theirs, here in self.merged_away]
        lines += [f"They merged entity {theirs} into {into}; both are still here (merge them in the entity view "
                  f"if you agree)." for theirs, into in self.not_merged]
        for c in self.entity_conflicts:
            lines.append(f"Conflict, entity {c.kb_id} kept as it is here — {c.difference()}")
        lines += [f"Conflict, label {c.name} kept as it is here — {c.difference()}" for c in self.label_conflicts]
        lines += [f"Layer {layer} in document {doc}: their later version replaced this one (unchanged here since "
                  f"the last merge)." for layer, doc in self.updated]
        lines += [f"Layer {layer} in document {doc}: changed here since the last merge, not there; kept this one."
                  for layer, doc in self.kept_newer]
        if self.events_updated:
            were = "was" if self.events_updated == 1 else "were"
            lines.append(f"{plural(self.events_updated, 'history event')} merged before {were} undone or redone "
                         "there since: updated here.")
        lines += [f"Conflict, layer {layer} in document {doc}: both files have it and they differ; kept this one."
                  for layer, doc in self.layer_conflicts]
        return lines
