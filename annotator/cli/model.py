"""The model that learns from the analysts: train, models, suggest, evaluate.

Each command imports what it runs inside its function: start-up is paid only by the command
that needs it (see annotator/cli/__init__.py; tests/test_architecture.py lists these imports).
"""

from __future__ import annotations

import json

import click

from annotator.cli.common import coded_errors, comma_list, contradict, progress_bar, read_store, user_of
from annotator.core.words import plural
from annotator.errors import AnnotatorError, Errors


def _scores_line(scores: dict) -> str:
    o = scores.get("overall") or {}
    links = scores.get("links")
    line = f"P {o.get('p', 0):.3f} R {o.get('r', 0):.3f} F {o.get('f', 0):.3f}" if o else "not scored"
    return line + (f"; links P {links['p']:.3f} R {links['r']:.3f} F {links['f']:.3f}" if links else "")


@click.command("train")
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
    report = train(store, sources=list(sources) or None, labels=comma_list(labels), base=base, out=out,
                   max_steps=max_steps, viewer=user_of(ctx, store), progress=click.echo)
    run = report.run
    click.echo(f"Trained run {run.name} on {plural(report.train, 'document')} ({report.held_out} held out): "
               f"{_scores_line(run.scores)}. Model: {run.path}")
    if report.misaligned:
        were = "was" if report.misaligned == 1 else "were"
        click.echo(f"{plural(report.misaligned, 'span')} off token boundaries {were} left out of the training data.")
    click.echo(f"Suggest with it: `annotator suggest --model {run.name}`; make it the project's suggester: "
               f"`annotator models use {run.name}`.")


@click.group("models", invoke_without_command=True)
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
        click.echo(f"{'*' if r.active else ' '} {r.name}  {r.created_at}  {plural(r.documents, 'document')}, "
                   f"base {r.base}: {_scores_line(r.scores)}{missing}")


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


@click.command("suggest")
@click.option("--model", "run", required=True, help="The trained run to suggest with: its name (`annotator models`) "
              "or its folder.")
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
    click.echo(f"{r.run} suggested {plural(r.suggestions, 'span')} in {plural(r.documents, 'document')} (model layer).")
    if documents == "all":
        click.echo(f"In {plural(r.layers, 'layer')} in progress: {plural(r.replaced, 'untouched suggestion')} replaced "
                   f"by {r.added}; "
                   f"{r.kept_out} left out where a person's decision or deletion stands.")


@click.command("queue")
@click.option("--uncertain", is_flag=True, help="Most uncertain first: where the suggester and its stock model "
              "(or the run before it) disagree on the most tokens. Without it: import order.")
@click.option("--model", "run", help="The run to be uncertain with (default: the project's suggester).")
@click.option("--limit", type=int, help="List at most this many documents.")
@click.option("--pool", type=int, help="With --uncertain: rank the first this many unchecked documents (import "
              "order; default 2,000), the next ones once these are opened.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@coded_errors
def queue_cmd(ctx, uncertain, run, limit, pool, as_json):
    """The unchecked documents (nobody has opened them), in the order to check them."""
    from annotator.io.uncertainty import Uncertain, first_unchecked, uncertain_order  # per command: start-up

    contradict(ctx, ("--pool", pool is not None, "without --uncertain", not uncertain),
               ("--model", run is not None, "without --uncertain", not uncertain))
    store = read_store(ctx)
    if uncertain:
        rows = uncertain_order(store, run, limit=limit, pool=pool)
    else:
        if limit is not None and limit < 1:
            raise AnnotatorError(Errors.E617.format(limit=limit))
        rows = [Uncertain(i, n, 0.0, 0) for i, n in first_unchecked(store, limit)]
    if as_json:
        click.echo(json.dumps([{"name": u.name, "disagreement": u.disagreement, "tokens": u.tokens} for u in rows],
                              indent=2))
        return
    if not rows:
        click.echo("No unchecked document left.")
    for u in rows:
        click.echo(f"{u.name}  {u.disagreement:.1%} of {u.tokens} tokens disputed" if uncertain else u.name)


@click.command("evaluate")
@click.option("--model", "run", required=True, help="What to score: a run's name (`annotator models`) or folder, "
              "or the folder of any spaCy pipeline.")
@click.option("--against", help="A layer (e.g. gold) whose finished documents to score against (default: the "
              "documents held out of the finished layers).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"overall": {p, r, f}, "per_label": {...}}, '
              'and "links": {p, r, f} when the run has an entity linker.')
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
    left = report.get("trained_on_left_out")
    click.echo(f"{report['run']} against {report['against']} ({plural(report['documents'], 'document')}"
               + (f"; {left} it was trained on left out" if left else "") + ")")
    rows = [("overall", report["overall"])] + list(report["per_label"].items())
    width = max(len(name) for name, _ in rows)
    click.echo(" " * width + "".join(f"{t:>8}" for t in ("P", "R", "F1")))
    if "links" in report:  # the entity linker, on the mentions a person linked
        rows.append(("links", report["links"]))
        width = max(width, len("links"))
    for name, m in rows:
        click.echo(f"{name:<{width}}" + "".join(f"{m[k]:>8.3f}" for k in ("p", "r", "f")))
