"""A merge grants no role: the creator of a colleague's file is a reviewer there (its owner), and
merging that file made them a reviewer here, able to read everyone's layers. A person new here
arrives as an annotator; a person already here keeps their role; on a team server the logins and
their membership stay as the admin set them."""

from __future__ import annotations

import itertools
import os

from click.testing import CliRunner
from test_review import SEEDS, make_store

from annotator.cli import main
from annotator.core.db.annotators import GOLD, gold_annotator, roles, set_role
from annotator.core.db.store import Store
from annotator.core.db.team import add_user, users

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)

_n = itertools.count(1)


def cli(db, *args, user=None):
    return CliRunner().invoke(main, ["--db", str(db), *(["--user", user] if user else []), *map(str, args)],
                              catch_exceptions=False)


def names():
    """Person names unique on the server (PostgreSQL logins belong to the whole server)."""
    n = f"{os.getpid()}_m{next(_n)}"  # not test_team_roles's names: the server is shared
    return f"carol{n}", f"bob{n}", f"lead{n}"


def colleague_file(path, carol, bob, lead):
    """carol's file, made with the command line (she owns it, so she is a reviewer there); she made bob
    a reviewer and lead an annotator in it; it has a gold layer."""
    assert cli(path, "import", "--no-model", SEEDS[1], user=carol).exit_code == 0
    theirs = Store(path)
    set_role(theirs, bob, "reviewer")
    set_role(theirs, lead, "annotator")
    with theirs.atomic() as s:
        gold_annotator(s)
    theirs.close()


def test_merge_roles_a_reviewer_there_arrives_as_an_annotator_and_one_here_keeps_theirs(tmp_path, backend):
    carol, bob, lead = names()
    colleague_file(tmp_path / "c.db", carol, bob, lead)
    ours = make_store(tmp_path / "m1.db", docs=(0,))
    if ours.is_sqlite:
        set_role(ours, lead, "reviewer")
        set_role(ours, bob, "annotator")
    else:  # real logins, members of the project, with the roles the admin gave them
        add_user(ours, lead, "reviewer")
        add_user(ours, bob, "annotator")
    before = {(m.name, m.login) for m in users(ours)}

    result = cli(ours.url, "merge", tmp_path / "c.db", user=lead)
    assert result.exit_code == 0, result.output
    assert {i.name: i.role for i in roles(ours)} == {carol: "annotator", bob: "annotator", lead: "reviewer",
                                                     GOLD: "reviewer"}
    lines = result.output.splitlines()
    assert lines[0] == (f"Merged {tmp_path / 'c.db'}: 1 document, 0 layer documents with 0 spans, 0 layer "
                        "documents brought up to their later version, 0 entities, 0 aliases, 2 annotators, "
                        "0 labels, 3 history events added.")
    how = (f"`annotator role {carol} reviewer` (a reviewer or the project's owner)" if ours.is_sqlite
           else f"`annotator db users add {carol} --role reviewer` (the admin)")
    assert lines[1] == (f"{carol} is a reviewer in {tmp_path / 'c.db'}; added here as an annotator (a merge "
                        f"gives no role): {how} makes them a reviewer here.")
    assert not any(bob in line or GOLD in line for line in lines[1:])  # bob was here already; gold is no person
    listed = cli(ours.url, "role", user=lead).output.splitlines()
    assert f"{carol}: annotator" in listed and f"{bob}: annotator" in listed and f"{lead}: reviewer" in listed
    assert {(m.name, m.login) for m in users(ours)} == before | {(carol, ours.is_sqlite)}  # no login made for her

    # the advice works: the command it names makes carol a reviewer
    command = how.split("`")[1].split()[1:]
    assert cli(ours.url, *command, user=lead).exit_code == 0
    assert {i.name: i.role for i in roles(ours)}[carol] == "reviewer"
