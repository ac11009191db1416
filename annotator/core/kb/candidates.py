"""Candidate entities for a mention, and free-text search of the knowledge base.

1. Exact: the mention's normalised forms (`kb.mention_keys`) against `Alias.norm` (B-tree index).
2. Fuzzy: alias strings near the mention are gathered cheaply, then re-ranked with rapidfuzz:
   - prefixes (the mention, or what the user typed, begins an alias),
   - substrings (FTS5 trigram on SQLite, pg_trgm or LIKE on PostgreSQL: `_near_norms`, the only
     dialect branch),
   - one-edit typos: every string one deletion, transposition, substitution or insertion away,
     probed on the B-tree index — exact recall for single typos, in 1-3 ms even at 1M aliases,
     where ranking trigram hits (bm25) costs 50-150 ms; past MAX_EDIT_LENGTH, the half of the
     mention that a typo left intact, as a prefix or a substring.
3. Ranking: exact matches before fuzzy ones; within each, a score from string similarity, the
   prior P(entity | alias) learned from `Alias.count`, type compatibility with the span's label
   (metonymy ranks, never excludes: a GPE mention may mean a government, an ORG), and whether the
   entity is already linked in this document. The entity a trained entity linker chose for the
   span (`suggested`, its source "linker") is pulled MODEL_PULL of the way to the top of its band, so
   it usually leads but an entity linked in the same document, or a far likelier one, can still
   outrank it. The prior's fill-in is not pulled: the prior already ranks it as it chose it. A run's
   suggestion from before sources were kept ("unknown") is pulled as it always was.

Priors are Laplace-smoothed over the entities sharing the alias, (count + 1) / (total + n): with
no counts yet every reading of an alias is equally likely.
"""

from __future__ import annotations

import sqlite3
import string
import time
from dataclasses import dataclass
from typing import Sequence

from rapidfuzz import fuzz, process
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from annotator.core.db.raw import index_backend, like_escape, marks, rows
from annotator.core.kb.entities import mention_keys, normalize

# How well an entity type fits a span label: 1 same, less for metonymy and near-misses, 0.1 else.
TYPE_FIT: dict[str, dict[str, float]] = {
    "GPE": {"GPE": 1.0, "LOC": 0.7, "ORG": 0.6, "NORP": 0.4, "FAC": 0.3},
    "LOC": {"LOC": 1.0, "GPE": 0.8, "FAC": 0.6, "ORG": 0.2},
    "ORG": {"ORG": 1.0, "GPE": 0.5, "NORP": 0.4, "FAC": 0.4, "LAW": 0.4, "PRODUCT": 0.3, "EVENT": 0.2},
    "NORP": {"NORP": 1.0, "GPE": 0.6, "ORG": 0.4},
    "PERSON": {"PERSON": 1.0, "ORG": 0.1},
    "FAC": {"FAC": 1.0, "ORG": 0.5, "LOC": 0.5, "GPE": 0.3},
    "LAW": {"LAW": 1.0, "ORG": 0.4, "EVENT": 0.3, "WORK_OF_ART": 0.3},
    "EVENT": {"EVENT": 1.0, "LAW": 0.3, "DATE": 0.2},
    "PRODUCT": {"PRODUCT": 1.0, "ORG": 0.4, "WORK_OF_ART": 0.3},
    "WORK_OF_ART": {"WORK_OF_ART": 1.0, "PRODUCT": 0.3, "LAW": 0.3},
}
UNKNOWN_FIT = 0.5  # no label, or an entity without a type: neither helps nor hurts
MISFIT = 0.1
WEIGHTS = {"prior": 0.5, "type": 0.3, "document": 0.2}  # of the context term in `score`
MODEL_PULL = 0.7  # of the distance to the top of its band (exact 1, fuzzy 0.5): the linker's choice
PULLED = ("linker", "unknown")  # the link sources pulled up (core/kb/suggestions.suggested_by)

PER_NORM = 10  # entities read per matching alias string
FUZZY_NORMS = 25  # alias strings kept after re-ranking
PREFIX_ROWS = 50
SUBSTRING_ROWS = 100
SUBSTRING_BUDGET_MS = 5.0
MAX_EDIT_LENGTH = 20  # longer mentions: the half without the typo, as prefix or substring
EDIT_ALPHABET = frozenset(string.ascii_lowercase + string.digits + " -.'")
SNIPPET_WIDTH = 40


@dataclass(frozen=True)
class Snippet:
    """One mention in context (keyword in context), whitespace flattened for a one-line view."""

    document_id: int
    document: str
    start: int
    end: int
    left: str
    text: str
    right: str


@dataclass(frozen=True)
class Candidate:
    entity_id: int
    kb_id: str
    name: str
    type: str
    description: str
    score: float  # 0..1, higher first; exact matches 0.5-1, fuzzy ones below 0.5
    why: str  # "exact" | "fuzzy" | "id"
    alias: str  # the alias text that matched
    prior: float  # P(entity | alias)
    count: int  # how often analysts linked this alias text to the entity
    type_fit: float
    in_document: bool  # already linked in the same document (and layer)
    snippet: Snippet | None = None
    suggested: str | None = None  # the span's suggested link is this entity, chosen by: a LINK_SOURCES name

    @property
    def model(self) -> bool:
        """The entity the trained entity linker chose for this span."""
        return self.suggested == "linker"


def type_fit(label: str | None, entity_type: str) -> float:
    if not label or not entity_type:
        return UNKNOWN_FIT
    if label == entity_type:
        return 1.0
    return TYPE_FIT.get(label, {}).get(entity_type, MISFIT)


def one_edit(q: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away from q."""
    letters = EDIT_ALPHABET | set(q)
    splits = [(q[:i], q[i:]) for i in range(len(q) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    out.discard(q)
    return out


# --- the dialect branch: strings containing q, and (PostgreSQL with pg_trgm) similar strings
def backend(conn: Connection) -> str:
    """"fts5" | "pg_trgm" | "like": what this database offers for substring search of aliases."""
    return index_backend(conn, "alias_fts", "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'", "like")


def _within_budget(conn: Connection, sql: str, params: Sequence) -> list:
    """The rows an SQLite query yields within SUBSTRING_BUDGET_MS, then stop: a phrase made of common
    trigrams ("ministry of health") can take tens of ms at 1M aliases, and the substring hits are
    a bonus next to the exact, prefix and typo ones — the window must not wait for them."""
    raw = conn.connection.dbapi_connection
    deadline = time.perf_counter() + SUBSTRING_BUDGET_MS / 1000
    raw.set_progress_handler(lambda: time.perf_counter() > deadline, 2000)
    found = []
    try:
        for row in raw.execute(sql, params):
            found.append(row)
    except sqlite3.OperationalError as e:
        if "interrupt" not in str(e):
            raise
    finally:
        raw.set_progress_handler(None, 0)
    return found


def _prefixed(conn: Connection, q: str) -> list[str]:
    """Alias strings that begin with q."""
    if conn.dialect.name == "sqlite":  # a B-tree range is a prefix search under SQLite's BINARY collation
        found = rows(conn, "SELECT DISTINCT norm FROM aliases WHERE norm >= ? AND norm < ? LIMIT ?",
                     (q, q + "\U0010ffff", PREFIX_ROWS))
    else:
        found = rows(conn, "SELECT DISTINCT norm FROM aliases WHERE norm LIKE ? LIMIT ?",
                     (like_escape(q) + "%", PREFIX_ROWS))
    return [r[0] for r in found]


def _containing(conn: Connection, q: str) -> list[str]:
    """Alias strings that contain q (with pg_trgm: or resemble it)."""
    kind = backend(conn)
    if kind == "fts5":
        if len(q) < 3:  # a trigram index cannot look up less than three characters
            return []
        phrase = '"' + q.replace('"', '""') + '"'
        found = _within_budget(conn, "SELECT a.norm FROM alias_fts JOIN aliases a ON a.id = alias_fts.rowid "
                                     "WHERE alias_fts MATCH ? LIMIT ?", (phrase, SUBSTRING_ROWS))
    elif kind == "pg_trgm":
        found = rows(conn, "SELECT norm FROM aliases WHERE norm %% ? OR norm LIKE ? "
                           "ORDER BY similarity(norm, ?) DESC LIMIT ?",
                     (q, "%" + like_escape(q) + "%", q, SUBSTRING_ROWS))
    else:
        found = rows(conn, "SELECT norm FROM aliases WHERE norm LIKE ? ESCAPE '\\' LIMIT ?",
                     ("%" + like_escape(q) + "%", SUBSTRING_ROWS))
    return [r[0] for r in found]


def _fuzzy_norms(conn: Connection, q: str, typos: bool = True) -> list[tuple[str, float]]:
    """(alias string, similarity 0..1) of the best near strings, best first."""
    if not q:
        return []
    near = set(_prefixed(conn, q)) | set(_containing(conn, q))
    if typos and 2 < len(q) <= MAX_EDIT_LENGTH:
        edits = sorted(one_edit(q))
        near.update(r[0] for r in rows(conn, f"SELECT DISTINCT norm FROM aliases WHERE norm IN ({marks(len(edits))})",
                                       edits))
    elif typos and len(q) > MAX_EDIT_LENGTH:  # a typo leaves one half intact: cheaper than 2,000 probes
        half = len(q) // 2
        near.update(_prefixed(conn, q[:half]))
        near.update(_containing(conn, q[half:]))
    near.discard(q)
    ranked = process.extract(q, list(near), scorer=fuzz.WRatio, limit=FUZZY_NORMS, score_cutoff=50)
    return [(norm, value / 100) for norm, value, _ in ranked]


def _near_all(conn: Connection, keys: list[str], typos: bool) -> list[tuple[str, float]]:
    """`_fuzzy_norms` of every form of the mention, each alias string at its best similarity: "the
    Institute of Foreign Affairs" is compared without its "the" too, so the entity whose name it
    begins is not outranked by one that merely shares "of Foreign Affairs and"."""
    best: dict[str, float] = {}
    for i, key in enumerate(keys):
        for norm, sim in _fuzzy_norms(conn, key, typos=typos and i == 0):
            if sim > best.get(norm, 0.0):
                best[norm] = sim
    return sorted(best.items(), key=lambda t: -t[1])[:FUZZY_NORMS]


# --- reading entities for alias strings
def alias_rows(conn: Connection, norms: list[str]) -> list:
    """(entity id, alias text, norm, count) for each alias string: its PER_NORM most linked."""
    if not norms:
        return []
    sql = " UNION ALL ".join(f"SELECT * FROM (SELECT entity_id, text, norm, count FROM aliases WHERE norm = ? "
                             f"ORDER BY count DESC, id DESC LIMIT {PER_NORM}) t{i}" for i in range(len(norms)))
    return rows(conn, sql, norms)


def prior(count: int, total: int, n: int) -> float:
    """P(entity | alias), Laplace-smoothed over the n entities sharing the alias."""
    return (count + 1) / (total + max(n, 1))


def score(similarity: float, exact: bool, prior_: float, fit: float, here: bool) -> float:
    """Exact matches score 0.5-1, fuzzy ones below 0.5, so the score alone gives the order."""
    context = WEIGHTS["prior"] * prior_ + WEIGHTS["type"] * fit + WEIGHTS["document"] * here
    return 0.5 + 0.5 * context if exact else 0.5 * similarity * (0.5 + 0.5 * context)


@dataclass
class _Hit:
    entity_id: int
    alias: str
    norm: str
    count: int  # the entity's links under this alias string (all its aliases of that norm)
    similarity: float
    exact: bool


def _collect(conn: Connection, q_keys: list[str], fuzzy: list[tuple[str, float]],
             in_doc: set[int]) -> tuple[list[_Hit], dict[str, tuple[int, int]]]:
    """The best-matching alias per entity, and per alias string (its total count, entities sharing it:
    one alias per entity and normal form, as `kb` and `linking` keep it, so rows count entities)."""
    similarity = {k: 1.0 for k in q_keys} | {n: sim for n, sim in fuzzy if n not in q_keys}
    norms = list(similarity)
    found = set(map(tuple, alias_rows(conn, norms)))
    if in_doc:  # entities linked in this document stay candidates however common the alias is
        ids = sorted(in_doc)
        found |= {tuple(r) for r in rows(conn, "SELECT entity_id, text, norm, count FROM aliases "
                                               f"WHERE entity_id IN ({marks(len(ids))})", ids) if r[2] in similarity}
    per_pair: dict[tuple[int, str], _Hit] = {}
    for entity_id, alias, norm, count in sorted(found, key=lambda r: (-r[3], r[1])):
        hit = per_pair.get((entity_id, norm))
        if hit is None:
            per_pair[entity_id, norm] = _Hit(entity_id, alias, norm, count, similarity[norm], norm in q_keys)
        else:
            hit.count += count
    best: dict[int, _Hit] = {}
    for hit in per_pair.values():
        old = best.get(hit.entity_id)
        if old is None or (hit.exact, hit.similarity, hit.count) > (old.exact, old.similarity, old.count):
            best[hit.entity_id] = hit
    keys = sorted({h.norm for h in best.values()})
    totals = {}
    if keys:
        totals = {norm: (total, n) for norm, n, total in rows(
            conn, f"SELECT norm, count(*), coalesce(sum(count), 0) FROM aliases "
                  f"WHERE norm IN ({marks(len(keys))}) GROUP BY norm", keys)}
    return list(best.values()), totals


def snippets_for(conn: Connection, entity_ids: list[int], annotator_id: int | None,
                 width: int = SNIPPET_WIDTH) -> dict[int, Snippet]:
    """One confirmed mention per entity (the first in its layer), keyword in context."""
    if not entity_ids:
        return {}
    layer = "AND s.annotator_id = ? " if annotator_id is not None else ""
    part = ("SELECT * FROM (SELECT s.entity_id, s.document_id, d.name, s.start, s.\"end\", "
            "substr(d.text, CASE WHEN s.start > ? THEN s.start - ? + 1 ELSE 1 END, s.\"end\" - s.start + 2 * ?) "
            "FROM spans s JOIN documents d ON d.id = s.document_id "
            f"WHERE s.entity_id = ? AND s.status = 'accepted' {layer}ORDER BY s.id LIMIT 1) t")
    sql = " UNION ALL ".join(part + str(i) for i in range(len(entity_ids)))
    params: list = []
    for e in entity_ids:
        params += [width, width, width, e] + ([annotator_id] if annotator_id is not None else [])
    return {entity_id: kwic(doc_id, name, start, end, around, max(0, start - width), width)
            for entity_id, doc_id, name, start, end, around in rows(conn, sql, params)}


def kwic(document_id: int, document: str, start: int, end: int, around: str, offset: int,
         width: int = SNIPPET_WIDTH) -> Snippet:
    """Cut `around` (the text from code point `offset`) into left / mention / right."""
    a, b = start - offset, end - offset
    flat = lambda s: " ".join(s.split())  # noqa: E731
    return Snippet(document_id, document, start, end, flat(around[max(0, a - width):a]), flat(around[a:b]),
                   flat(around[b:b + width]))


def candidates(session: Session, mention: str, *, label: str | None = None, document_id: int | None = None,
               annotator_id: int | None = None, limit: int = 10, fuzzy: bool = True,
               snippets: bool = True, suggested: tuple[int, str] | None = None) -> list[Candidate]:
    """Ranked candidate entities for a mention's text (see the module docstring).

    `document_id` and `annotator_id` say where the mention is: entities already linked there rank
    higher, and snippets come from that annotator's layer (annotators do not see each other's).
    `suggested`: (entity, who chose it) of the span's suggested link (suggestions.suggested_by): marked
    on its candidate; ranked up (MODEL_PULL) when a trained linker chose it (PULLED).
    """
    chosen, source = suggested if suggested is not None else (None, None)
    conn = session.connection()
    keys = mention_keys(mention)
    if not keys:
        return []
    in_doc: set[int] = set()
    if document_id is not None:
        layer, params = ("AND annotator_id = ? ", [document_id, annotator_id]) if annotator_id is not None \
            else ("", [document_id])
        in_doc = {r[0] for r in rows(conn, "SELECT DISTINCT entity_id FROM spans WHERE document_id = ? "
                                           f"{layer}AND entity_id IS NOT NULL AND status = 'accepted'", params)}
    # A mention spelled like a known alias is not looked up for typos: that is what makes a
    # short, common name ("Kim") fast, and its one-edit neighbours ("Kin") were never wanted.
    known = bool(rows(conn, f"SELECT 1 FROM aliases WHERE norm IN ({marks(len(keys))}) LIMIT 1", keys))
    near = _near_all(conn, keys, typos=not known) if fuzzy else []
    hits, totals = _collect(conn, keys, near, in_doc)
    if not hits:
        return []
    ids = [h.entity_id for h in hits]
    entities = {r[0]: r for r in rows(conn, f"SELECT id, kb_id, name, type, description FROM entities "
                                            f"WHERE id IN ({marks(len(ids))})", ids)}
    scored = []
    for h in hits:
        e = entities[h.entity_id]
        total, n = totals.get(h.norm, (h.count, 1))
        p = prior(h.count, total, n)
        fit = type_fit(label, e.type)
        here = e.id in in_doc
        value = score(h.similarity, h.exact, p, fit, here)
        if e.id == chosen and source in PULLED:
            value += MODEL_PULL * ((1.0 if h.exact else 0.5) - value)
        scored.append((value, h.count, -e.id, h, e, p, fit, here))
    scored.sort(key=lambda t: t[:3], reverse=True)
    top = scored[:limit]
    snips = snippets_for(conn, [t[4].id for t in top], annotator_id) if snippets else {}
    return [Candidate(e.id, e.kb_id, e.name, e.type, e.description, round(value, 4), "exact" if h.exact else "fuzzy",
                      h.alias, round(p, 4), h.count, fit, here, snips.get(e.id), source if e.id == chosen else None)
            for value, _, _, h, e, p, fit, here in top]


def search(session: Session, query: str, *, label: str | None = None, annotator_id: int | None = None,
           limit: int = 20) -> list[Candidate]:
    """What the user types in the link box: an id ("Q884"), a name, part of one, or a typo of one."""
    query = query.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
    if not query:
        return []
    found = candidates(session, query, label=label, annotator_id=annotator_id, limit=limit)
    conn = session.connection()
    by_id = rows(conn, "SELECT id, kb_id, name, type, description FROM entities WHERE kb_id = ?", [query])
    if by_id:
        r = by_id[0]
        snip = snippets_for(conn, [r.id], annotator_id).get(r.id)
        exact = Candidate(r.id, r.kb_id, r.name, r.type, r.description, 1.0, "id", r.kb_id, 1.0, 0,
                          type_fit(label, r.type), False, snip)
        found = [exact] + [c for c in found if c.entity_id != r.id]
    return found[:limit]


NEAR_NAME = 85  # rapidfuzz ratio (0-100) from which two entity names are taken for the same


def near_duplicates(session: Session, name: str, *, label: str | None = None, annotator_id: int | None = None,
                    limit: int = 5) -> list[Candidate]:
    """Entities a new entity called `name` would likely duplicate: one whose name or an alias is
    `name` (an exact match), whose name contains it or is contained in it ("Aegis" / "Aegis Combat
    System"), or is nearly the same string. Best first."""
    q = normalize(name)
    if not q:
        return []
    found = []
    for c in search(session, name, label=label, annotator_id=annotator_id, limit=20):
        n = normalize(c.name)
        if c.why in ("exact", "id") or q in n or n in q or fuzz.ratio(q, n) >= NEAR_NAME:
            found.append(c)
    return found[:limit]
