"""What every command shares: which project and user, coded errors as one line, a progress bar."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from annotator.core.db.visibility import default_user
from annotator.errors import AnnotatorError, Errors


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
    """--db for a command that only reads: a project file that does not exist, or is empty (a copy cut
    short, a `touch`), is E054, rather than a new empty project (and its folder) made as a side effect
    of looking, whose "Documents: 0" would hide that the file holds nothing."""
    from annotator.core.db.store import to_url

    url = to_url(ctx.obj["db"])
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        what = "the file does not exist" if not path.exists() else "the file is empty (0 bytes)" \
            if path.is_file() and path.stat().st_size == 0 else None  # SQLite would make a project in it
        if what is not None:
            command = ctx.command_path[len(ctx.find_root().command_path) + 1:]
            raise AnnotatorError(Errors.E054.format(path=ctx.obj["db"], what=what, command=command))
    return ctx.obj["db"]


def read_store(ctx: click.Context):
    from annotator.core.db.store import Store

    return Store(existing_db(ctx))


def user_of(ctx: click.Context, store) -> str:
    """--user (or ANNOTATOR_USER); on a database server the login; else the OS login. A name only: who
    reads is not made an annotator (core.db.annotators.find_annotator)."""
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


def contradict(ctx: click.Context, *pairs: tuple[str, bool, str, bool]) -> None:
    """Options given together that cannot both hold (`--model M --no-model`), or one that means
    something only with another: refused (E058) rather than one of them silently ignored. Each pair:
    (option, given, other option, given); an other option starting "without" needs the first."""
    for a, given_a, b, given_b in pairs:
        if given_a and given_b and b.startswith("without "):
            raise click.UsageError(f"{a} applies with {b.removeprefix('without ')} only: add that, or leave {a} out", ctx)
        if given_a and given_b:
            raise click.UsageError(f"{a} and {b} contradict each other: give one of them", ctx)


def comma_list(value: str | None) -> list[str] | None:
    """"A,B" -> ["A", "B"]; None stays None."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]
