"""Team mode on a PostgreSQL server: members, their database logins, and what the server lets them do.

Each member connects with a login of their own, named like their annotator (`annotator --db
postgresql+psycopg://ana@host/project`); their role is `annotators.role`. Migration 0003 installs
row-level security keyed on that (see its docstring); this module gives the logins access to the
tables at all: one group role per project database holds the grants, and `add_user` (the admin's
`annotator db users add`) makes a login a member. The admin is whoever owns the database (or a
superuser, see `Store.is_admin`); the policies do not apply to them. On SQLite (one user) roles are a guard in the app only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text

from annotator.core.db.annotators import GOLD, MODEL_LAYER, ROLES, find_annotator, set_role
from annotator.core.db.grants import _quote, grant_members, group_name
from annotator.core.db.models import Annotator
from annotator.core.db.store import Store
from annotator.errors import AnnotatorError, Errors


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    login: bool  # has a database login that is a member of this project (always true on SQLite)
    admin: bool = False  # their login owns the database (PostgreSQL)


def add_user(store: Store, name: str, role: str = "annotator", *, by: str | None = None,
             password: str | None = None) -> tuple[str | None, bool]:
    """Make `name` a member with `role` (the admin's `annotator db users add`). On PostgreSQL also
    their login (created if the server has none of that name, with `password` if given) joins the
    project's group. Returns (the role they had before or None, whether a login was created)."""
    if role not in ROLES:
        raise AnnotatorError(Errors.E155.format(role=role))
    created = False
    _check_person(store, name)  # before a login is made: a login named after a model or gold would write it
    if not store.is_sqlite:
        store.check_admin("add users")
        with store.engine.begin() as conn:
            group = group_name(conn)
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": group}).first():
                conn.exec_driver_sql(f"CREATE ROLE {_quote(conn, group)} NOLOGIN")
            grant_members(conn)
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
                conn.exec_driver_sql(f"CREATE ROLE {_quote(conn, name)} LOGIN")
                created = True
            if password is not None:  # DDL takes no parameters: psycopg quotes the literal
                from psycopg import sql

                conn.connection.driver_connection.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
            conn.exec_driver_sql(f"GRANT {_quote(conn, group)} TO {_quote(conn, name)}")
    # on a project file a person of the project changes roles only as a reviewer or the owner, as with
    # `annotator role` (E165): else an annotator made themselves a reviewer here. Whoever sets a file up
    # without being one of its people still may; on a server the admin check above and the grants hold.
    change = set_role(store, name, role, by=by, guard=store.is_sqlite and _member(store, by))
    return change.before, created


def _member(store: Store, name: str | None) -> bool:
    with store.Session() as s:
        return name is not None and find_annotator(s, name) is not None


def _check_person(store: Store, name: str) -> None:
    """E157 when `name` is gold's or a model's layer (set_role says so too, but after the login exists)."""
    with store.Session() as s:
        is_model = s.scalar(select(Annotator.is_model).where(Annotator.name == name))
    if name == GOLD or name == MODEL_LAYER or is_model:
        raise AnnotatorError(Errors.E157.format(name=name, what="gold" if name == GOLD else "model"))


def users(store: Store) -> list[Member]:
    """The people of the project (not the model, not gold), with their role and, on PostgreSQL,
    whether their login is a member."""
    with store.Session() as s:
        rows = s.execute(select(Annotator.name, Annotator.role).where(~Annotator.is_model, Annotator.name != GOLD)
                         .order_by(Annotator.name)).all()
        if store.is_sqlite:
            return [Member(name, role, True) for name, role in rows]
        group = group_name(s.connection())
        members = set(s.scalars(text("SELECT r.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid "
                                     "JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = :g"), {"g": group}))
        admins = set(s.scalars(text("SELECT rolname FROM pg_roles WHERE pg_has_role(rolname, (SELECT datdba FROM "
                                    "pg_database WHERE datname = current_database()), 'MEMBER')")))
    return [Member(name, role, name in members or name in admins, name in admins) for name, role in rows]

