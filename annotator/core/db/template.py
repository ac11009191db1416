"""A new SQLite project starts as a copy of the empty project at the current schema.

Alembic makes that empty project once per version of the migrations, in a child process, and it is
kept in the user cache directory. Creating a project is then a copy (milliseconds), and the process
that creates it never loads Alembic, with Mako and Pygments: ~9 MB of peak memory and ~0.15 s of
`annotator import` into a new project (issue 18). The schema is still made by the migrations alone;
the copy is their result, checked before use. Without a usable copy (a read-only home, a failed
child) the caller migrates in its own process, as before.

The copy is made beside the new project under another name and then hard-linked to the project's
name, which is atomic and refuses to replace a file: the project appears whole or not at all (an
interrupted creation leaves nothing at its name), and two processes creating the same project at
once cannot overwrite each other; the second opens the first one's file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from platformdirs import user_cache_dir

MIGRATIONS = Path(__file__).parent / "migrations"
ROOT = Path(__file__).resolve().parents[3]  # the folder holding the annotator package this is
# the child builds with the same package (not another copy on its path), migrating in its own process
BUILD = "import sys; from annotator.core.db.store import Store; Store(sys.argv[1], template=False).close()"


def key() -> str:
    """What the empty project depends on: the migration files, by content, and the SQLite library
    they branch on (0002 and 0005 make a trigram index only from SQLite 3.34)."""
    digest = hashlib.sha256(b"sqlite " + sqlite3.sqlite_version.encode() + b"\0")
    for path in sorted(MIGRATIONS.rglob("*.py")):
        digest.update(path.relative_to(MIGRATIONS).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _valid(path: Path, application_id: int, head: str) -> bool:
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            return (conn.execute("PRAGMA application_id").fetchone()[0] == application_id
                    and conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
                    and conn.execute("PRAGMA quick_check").fetchall() == [("ok",)])
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def empty_project(application_id: int, head: str) -> Path | None:
    """The cached empty project at `head`, built now (in a child process) if missing or damaged;
    None when there is none to be had."""
    folder = Path(user_cache_dir("annotator", appauthor=False))
    path = folder / f"empty-{head}-{key()}.db"
    if path.exists() and _valid(path, application_id, head):
        return path
    part = path.with_name(f"{path.stem}.{os.getpid()}.part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        built = subprocess.run([sys.executable, "-c", BUILD, str(part)], capture_output=True, env=env, timeout=120)
        if built.returncode != 0 or not _valid(part, application_id, head):
            return None
        os.replace(part, path)  # whole or not at all, whoever else builds it at the same time
        return path
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        for leftover in (part, Path(f"{part}-wal"), Path(f"{part}-shm")):
            with contextlib.suppress(OSError):
                leftover.unlink()


def make_project(target: Path, application_id: int, head: str) -> bool:
    """Put a copy of the empty project at `target`, which did not exist: True when this call made it.
    False when there is no copy to be had, the file system cannot link, or another process made
    `target` meanwhile: the caller then opens what is there, or migrates in its own process."""
    empty = empty_project(application_id, head)
    if empty is None:
        return False
    part = target.with_name(f"{target.name}.new-{os.getpid()}-{threading.get_ident()}")
    leftovers = (part, Path(f"{part}-journal"), Path(f"{part}-wal"), Path(f"{part}-shm"))
    try:
        _remove(leftovers)  # of a process with this id that was killed here
        copy_into(empty, part)
        os.link(part, target)  # atomic; never replaces a file
        return True
    except FileExistsError:  # someone else's project now: never overwritten
        return False
    except (OSError, sqlite3.Error):  # no hard links here, a read-only folder: migrating says what is wrong
        return False
    finally:
        _remove(leftovers)


def _remove(paths) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def copy_into(template: Path, target: Path) -> None:
    """Copy the empty project into a new file with the SQLite backup API, committed before it is linked."""
    src = sqlite3.connect(f"{template.as_uri()}?mode=ro&immutable=1", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
