"""Setting a project up: its label scheme and its database (schema, members).

Each command imports what it runs inside its function: start-up is paid only by the command
that needs it (see annotator/cli/__init__.py; tests/test_architecture.py lists these imports).
"""

from __future__ import annotations

import click

from annotator.cli.common import coded_errors, existing_db, open_store, read_store, user_of


@click.group("labels", invoke_without_command=True)
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


@click.group("db")
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
