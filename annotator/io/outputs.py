"""Where exports, KB exports and screenshots write: a checked path, replaced atomically.

`check` refuses an output that would destroy an input: the open project, its -wal/-shm/-journal,
any SQLite database, a folder holding one, a device or named pipe (`--out /dev/stdout`: the rename
would replace the node itself); and an existing export unless `force`. `replace` writes
into a staging folder beside the target (`.NAME.xxxxxxxx.part`) and swaps the result in by rename,
so after a crash the target is the old output or the new one, never a mix; the next write to the
same target removes what a killed one left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

from annotator.errors import AnnotatorError, Errors

SQLITE_HEADER = b"SQLite format 3\x00"
COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's files beside a database
STAGES = (".part", ".old", ".new")  # a staging folder, the old output set aside, the new one ready
T = TypeVar("T")


def is_sqlite(path: Path) -> bool:
    """The first 16 bytes of an SQLite database, whatever its name."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_HEADER
    except OSError:
        return False


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _database_of(path: Path) -> Path | None:
    """The database `path` is, or whose -wal/-shm/-journal it is."""
    if is_sqlite(path):
        return path
    for tail in COMPANIONS:
        if path.name.endswith(tail):
            base = path.with_name(path.name[:-len(tail)])
            if is_sqlite(base):
                return base
    return None


def _special(path: Path) -> str | None:
    """What `path` is when it is neither a file nor a folder (a link: what it points to), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    for test, what in ((stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what + (" (through a link)" if path.is_symlink() else "")
    return None


def check(out: str | os.PathLike, *, project: str | os.PathLike | None, force: bool = False,
          folder: bool = False) -> Path:
    """`out` if writing there destroys no input; else a coded error, before anything is written.

    `project` is the open project file (None on a database server)."""
    out = Path(out)
    project = Path(project) if project is not None else None
    if project is not None:
        for tail in ("", *COMPANIONS):
            if _same(out, project.with_name(project.name + tail)):
                raise AnnotatorError(Errors.E044.format(path=out, what="the open project" if not tail
                                                        else f"the open project's {tail[1:]} file"))
        if out.is_dir() and Path(os.path.realpath(project)).is_relative_to(os.path.realpath(out)):
            raise AnnotatorError(Errors.E044.format(path=out, what="the folder that holds the open project"))
    if (kind := _special(out)) is not None:  # a rename would put a file where the device or pipe was
        raise AnnotatorError(Errors.E044.format(path=out, what=kind))
    if (database := _database_of(out)) is not None:  # a -wal name beside a database, even if absent
        raise AnnotatorError(Errors.E045.format(path=out, database=database))
    if out.is_dir() and folder:
        inside = list(out.iterdir())
        if not inside:
            return out  # an empty folder, made for the export
        foreign = next((p for p in inside if not p.is_file() or p.is_symlink() or is_sqlite(p)), None)
        if foreign is not None:
            raise AnnotatorError(Errors.E047.format(path=out, item=foreign.name))
    if out.exists() and not force and not (out.is_dir() and not folder):
        raise AnnotatorError(Errors.E046.format(path=out))
    return out


def _stage_name(target: Path, name: str) -> str | None:
    """The stage of a leftover `.TARGET.xxxxxxxx.STAGE` of `target`, else None."""
    prefix = f".{target.name}."
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix):]
    stem, _, stage = rest.rpartition(".")
    if re.fullmatch(r"[a-z0-9_]{8}", stem) and f".{stage}" in STAGES:  # tempfile.mkdtemp's 8 characters
        return f".{stage}"
    return None


def clean_leftovers(target: Path) -> None:
    """Finish or undo a swap a crash interrupted, then remove staging folders of `target`."""
    parent = target.parent
    if not parent.is_dir():
        return
    found = {p: _stage_name(target, p.name) for p in parent.iterdir()}
    found = {p: stage for p, stage in found.items() if stage}
    if not target.exists() and not target.is_symlink():
        # killed between "old aside" and "new in": the complete new output goes in, else the old one back
        ready = [p for p, s in found.items() if s == ".new"] or [p for p, s in found.items() if s == ".old"]
        if ready:
            os.rename(ready[0], target)
            del found[ready[0]]
    for p in found:
        _remove(p)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def replace(target: str | os.PathLike, write: Callable[[Path], T], *, folder: bool = False) -> T:
    """`write(path)` builds the output at a staging path beside `target`; the result replaces
    `target` by rename (a file with os.replace, a folder by exchange or two renames). On any
    exception (Cancelled, a coded error) nothing at `target` changes and the staging is removed.
    A folder output creates missing parent folders (removed again if the write fails)."""
    target = Path(target)
    created = [p for p in reversed(target.parents) if not p.exists()] if folder else []
    if created:
        target.parent.mkdir(parents=True)
    clean_leftovers(target)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        result = write(work / target.name)
        _swap_in(work / target.name, target, work)
    except BaseException:
        _remove(work)
        for parent in reversed(created):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    _remove(work)
    return result


def _swap_in(built: Path, target: Path, work: Path) -> None:
    if not built.is_dir() or not target.is_dir():
        os.replace(built, target)  # a file (or a folder into a free name): one atomic rename
        return
    if _exchange(built, target):
        return  # `built` now holds the old folder, removed with `work`
    # No atomic exchange here: mark the new folder complete, set the old one aside, rename the new in.
    # A crash between the two renames is finished by clean_leftovers on the next write.
    ready = work.with_name(work.name[:-len(".part")] + ".new")
    os.rename(built, ready)
    aside = work.with_name(work.name[:-len(".part")] + ".old")
    os.rename(target, aside)
    os.rename(ready, target)
    _remove(aside)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is missing."""
    libc = _libc()
    if libc is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False  # ENOSYS, EINVAL (a file system without it): the two-rename path


def _libc():
    if not hasattr(_libc, "cached"):
        try:
            lib = ctypes.CDLL(None, use_errno=True)  # this process's symbols, libc's among them
        except OSError:
            lib = None
        _libc.cached = lib if lib is not None and hasattr(lib, "renameat2") else None
    return _libc.cached
