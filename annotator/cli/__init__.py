"""The `annotator` command: parse arguments, call one core function, print.

Errors the user can act on print one line `Error: [E0xx] ...` and exit with status 1.

Each command imports what it runs inside its function: start-up is paid per command, so `annotator
stats` loads no Qt, spaCy or numpy (tests/test_architecture.py lists these imports, LAZY).
"""

from __future__ import annotations

import os
import sys
import threading

import click

from annotator.cli.admin import db_group, labels_group
from annotator.cli.common import coded_errors, default_db
from annotator.cli.corpus import export_cmd, import_cmd, kb_group, merge_cmd, screenshot_cmd, search_cmd, stats_cmd
from annotator.cli.model import evaluate_cmd, models_group, queue_cmd, suggest_cmd, train_cmd
from annotator.cli.review import agreement_cmd, guidelines_group, history_cmd, progress_cmd, role_cmd
from annotator.errors import Errors


SIGPIPE_STATUS = 128 + 13  # as a shell reports a command killed by SIGPIPE
SIGINT_STATUS = 128 + 2  # ... and one Ctrl+C stopped


class _Annotator(click.Group):
    """The command group. Output into a closed pipe (`annotator stats | head -1`) ends a command without
    a word (click's own handling printed nothing and exited 1) and with the status of a command SIGPIPE
    ended: a pipeline's status is the reader's unless pipefail, and a script that checks it knows the
    command did not finish (a training whose progress went into a closed pipe stopped: no success)."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as e:
            raise _usage(e) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            raise _usage(e) from None
        except KeyboardInterrupt:
            _interrupted(ctx)
        except BrokenPipeError:
            try:  # what is still buffered goes nowhere, so the flush at exit does not fail again
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):  # not a file descriptor (click's test runner)
                pass
            ctx.exit(SIGPIPE_STATUS)


def _interrupted(ctx: click.Context) -> None:
    """Ctrl+C: one coded line and the status of a command SIGINT ended (130), not click's "Aborted!".
    The command's transaction was rolled back on the way here. Worker processes still running (spaCy's)
    are ended; their queues' threads could never finish, so the process then ends without waiting for them."""
    command = f"{ctx.info_name} {ctx.invoked_subcommand or ''}".strip()
    click.echo(f"Error: {Errors.E059.format(command=command)}", err=True)
    workers = sys.modules["multiprocessing"].active_children() if "multiprocessing" in sys.modules else []
    for child in workers:
        child.terminate()
    if workers or any(t.name == "QueueFeederThread" for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(SIGINT_STATUS)  # the exit would join a queue's thread blocked on a pipe nobody reads
    ctx.exit(SIGINT_STATUS)


def _usage(e: click.UsageError) -> click.ClickException:
    """A mistake in the arguments (unknown option, a value not allowed, options that contradict each
    other) as one coded line and status 1, like every other refusal, rather than click's usage block
    and status 2."""
    command = e.ctx.command_path if e.ctx is not None else "annotator"
    problem = e.format_message().strip()
    problem += "" if problem.endswith((".", "?", "!")) else "."
    return click.ClickException(Errors.E058.format(problem=problem, command=command))


@click.group(cls=_Annotator, invoke_without_command=True)
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


# every command, listed here: nothing registers itself by being imported
main.add_command(import_cmd)
main.add_command(export_cmd)
main.add_command(kb_group)
main.add_command(stats_cmd)
main.add_command(search_cmd)
main.add_command(screenshot_cmd)
main.add_command(merge_cmd)
main.add_command(guidelines_group)
main.add_command(progress_cmd)
main.add_command(history_cmd)
main.add_command(agreement_cmd)
main.add_command(role_cmd)
main.add_command(labels_group)
main.add_command(db_group)
main.add_command(train_cmd)
main.add_command(models_group)
main.add_command(suggest_cmd)
main.add_command(queue_cmd)
main.add_command(evaluate_cmd)
_accept_shared_options(main)
