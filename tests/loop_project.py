"""A project as the model loop meets it, built through the real API: the sample articles (and their
paragraphs as short articles) imported with the model, the sample knowledge base, two analysts
editing as themselves (accepting, relabelling, moving, adding, deleting, linking, NIL, notes), some
documents done with suggestions left unchecked, some in progress, and gold from adjudication."""

from __future__ import annotations

import re
from pathlib import Path

from annotator.core.db.models import Span
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.resources import seeds_dir
from annotator.core.review.facade import Review
from annotator.io.importing import import_paths
from annotator.io.kb_transfer import import_kb

REVIEWER, ANA, BEN = "rev", "ana", "ben"


def articles(folder: Path) -> list[Path]:
    """The three sample articles and each of their longer paragraphs as an article of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed in sorted(seeds_dir().glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        out.append(folder / seed.name)
        out[-1].write_text(text, encoding="utf-8")
        for n, para in enumerate(p.strip() for p in text.split("\n\n")):
            if len(para) > 200:
                out.append(folder / f"{seed.stem}-p{n:02d}.txt")
                out[-1].write_text(para + "\n", encoding="utf-8")
    return out


def _work(person: Project, doc: int, n: int, finish: bool) -> None:
    """One analyst's pass over a document: every edit kind, some suggestions left unchecked."""
    text = person.document(doc).text
    suggested = sorted(person.open_document(doc), key=lambda v: v.start)
    for k, v in enumerate(suggested):
        kind = (k + n) % 9
        if kind == 0:
            person.accept(v.id)
        elif kind == 1:
            person.delete_span(v.id)
        elif kind == 2:
            person.relabel(v.id, "ORG" if v.label != "ORG" else "GPE")
        elif kind == 3 and " " in text[v.start:v.end]:  # the first word only: on token boundaries
            person.move(v.id, v.start, v.start + text[v.start:v.end].index(" "))
        elif kind == 4:
            person.mark_nil(v.id)
        elif kind == 5:
            person.set_referent_note(v.id, "the government")  # a note on a suggestion: still unchecked
        elif kind == 6:
            found = person.candidates(doc, text[v.start:v.end], v.label)
            if found:
                person.link(v.id, found[0].entity_id)
            else:
                person.accept(v.id)
        # 7, 8: left unchecked
    found = re.search(r"\bagreements?\b", text)  # what the model missed
    if found and not any(s.start < found.end() and found.start() < s.end for s in person.spans(doc)):
        person.add_span(doc, found.start(), found.end(), "EVENT")
    if finish:
        person.set_status(doc, "done")


def build(folder: Path, *, model: bool = True, store: Store | None = None) -> Store:
    """The project file `folder/p.db` (see the module), or the project in `store` (a team server's)."""
    store = store if store is not None else Store(str(folder / "p.db"))
    Project(store, REVIEWER, role="reviewer")
    import_kb(store, seeds_dir() / "kb.jsonl")
    import_paths(store, articles(folder / "texts"), use_model=model)
    ana, ben, rev = Project(store, ANA), Project(store, BEN), Project(store, REVIEWER)
    ids = [d.id for d in rev.documents(limit=None)]
    for n, doc in enumerate(ids[:10]):
        _work(ana, doc, n, finish=n < 8)
    for n, doc in enumerate(ids[:4] + ids[10:14]):
        _work(ben, doc, n + 4, finish=n != 3)
    review = Review(rev)
    for doc in ids[:3]:  # gold: ana's version wherever the two disagree
        adj = review.adjudicate(doc, [ANA, BEN])
        while len(adj):
            adj.take(adj[0], ANA)
        adj.finish()
    adj = review.adjudicate(ids[3], [ANA, BEN])  # gold being adjudicated: in progress
    adj.take(adj[0], BEN)
    return store


def layer_rows(store: Store, document_id: int | None = None) -> dict[int, tuple]:
    """Every span row, by id, with all its fields: compared before and after an operation."""
    with store.Session() as s:
        q = s.query(Span) if document_id is None else s.query(Span).filter(Span.document_id == document_id)
        return {r.id: (r.document_id, r.annotator_id, r.start, r.end, r.label, r.entity_id, r.nil, r.referent_note,
                       r.origin, r.status, r.model_run_id, r.version, r.link_source) for r in q}
