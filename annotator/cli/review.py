"""Reviewing and the team's work: agreement, roles, guidelines, progress, history.

Each command imports what it runs inside its function: start-up is paid only by the command
that needs it (see annotator/cli/__init__.py; tests/test_architecture.py lists these imports).
"""

from __future__ import annotations

import atexit
import gc
import json
import sys

import click

from annotator.cli.common import coded_errors, comma_list, open_store, read_store, user_of
from annotator.core import collector
from annotator.core.words import plural
from annotator.errors import AnnotatorError, Errors


@click.group("guidelines")
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


@click.command("progress")
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


@click.command("history")
@click.option("--doc", "doc_name", help="Only this document's edits.")
@click.option("--user", "person", help="Only this person's edits (someone else's: reviewers only).")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(min=1), help="The newest this many edits.")
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


@click.command("agreement")
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
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)  # the interpreter's exit collections then skip the objects made (0.1 s)
    with collector.paused():  # imports and the report make ~10^6 objects and no cyclic garbage
        from annotator.core.review.inputs import project_agreement  # numpy: loaded by this command only

        store = read_store(ctx)
        result = project_agreement(store, comma_list(annotators), comma_list(labels), status,
                                   viewer=user_of(ctx, store))
    if as_json:
        for piece in result.json_pieces():  # not click.echo: it scans 24 MB for colour codes
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    report = result.to_json()
    names = sorted({n for p in report["pairs"] for n in (p["a"], p["b"])})
    click.echo(f"Agreement of {', '.join(names)} over {plural(report['overall']['n_docs'], 'document')} "
               "(- where undefined; per document: --json)")
    for line in _agreement_table(report):
        click.echo(line)
    which = "finished (done)" if status == "done" else "finished or in progress (--status all)"
    click.echo(f"Documents compared: those both of a pair {which}, with accepted spans only.")
    for p in report["pairs"]:
        click.echo(f"  {p['a']} / {p['b']}: {', '.join(p['documents']) or 'none in common'}")


@click.command("role")
@click.argument("name", required=False)
@click.argument("role", required=False)
@click.pass_context
@coded_errors
def role_cmd(ctx, name, role):
    """Show roles, or give NAME the role ROLE (annotator or reviewer; reviewers see every layer and
    edit gold)."""
    from annotator.core.db.annotators import roles, set_role

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
