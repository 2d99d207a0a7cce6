"""The one check of a path given on the command line, before anything reads or creates it.

Every option that takes a path (``--config``, ``--out``, ``--run``, ``--data-root``, compare's
runs) goes through ``check_path``: a path the file system cannot hold (a name longer than it
allows), a part of it that is a file, a loop of links, a folder without permission, a device,
FIFO or socket given as a file or folder (a folder given as a file, and a file as a folder, are
named by what reads it: ``config.strict_yaml``, ``runs.layout``): each is a usage
error (``ConfigError``, exit 2) of one line naming the option, the path and the problem.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Literal

from gnnviz.errors import ConfigError

Kind = Literal["file", "folder", "new-folder"]

# What a path's stat error means to the user who typed it.
_PROBLEMS = {
    errno.ENAMETOOLONG: "a name in it is longer than the file system allows (ENAMETOOLONG); use a shorter path",
    errno.ENOTDIR: "a part of it is a file, not a folder (ENOTDIR); check the path",
    errno.ELOOP: "its symbolic links loop (ELOOP); check the links",
    errno.EACCES: "permission denied on a folder in it (EACCES); fix the permissions or use a folder you own",
    errno.EPERM: "operation not permitted (EPERM); fix the permissions or use a folder you own",
}


def _special(mode: int) -> str | None:
    """What a stat mode is, if it is neither a regular file nor a folder."""
    for test, word in (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return word
    return None


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_path(path: Path, option: str, kind: Kind) -> Path:
    """Refuse ``path`` (given as ``option``) unless it can be what ``kind`` says; return it, ``~`` expanded.

    - ``file``: an existing regular file (a config), read whole later.
    - ``folder``: an existing folder (a run directory, compare's runs).
    - ``new-folder``: a folder that may not exist yet (``--out``, ``--data-root``): whatever part of it
      exists is a folder, and every name still to be made fits the file system.
    """
    path = path.expanduser()

    def refuse(problem: str) -> ConfigError:
        return ConfigError(f"{option} {path}: {problem}")

    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            if kind == "new-folder":
                _check_new(path, refuse)
            return path  # what reads it says what is missing (a config, a run) in its own words
        if exc.errno in _PROBLEMS:
            raise refuse(_PROBLEMS[exc.errno]) from None
        raise  # the machine's problem (EIO...): exits.run names it, exit 1
    special = _special(st.st_mode)
    if special is not None:
        raise refuse(f"is {special}, not a {'file' if kind == 'file' else 'folder'}; pass a regular one")
    # A folder given as a file, or a file as a folder: what reads it names that in its own words.
    return path


def _check_new(path: Path, refuse) -> None:
    """``path`` does not exist: its nearest existing ancestor is a folder and the names below it fit."""
    missing: list[str] = []
    here = path
    while True:
        parent = here.parent
        missing.append(here.name)
        try:
            st = os.stat(parent)
        except FileNotFoundError:
            if parent == here:
                break
            here = parent
            continue
        except OSError as exc:
            if exc.errno in _PROBLEMS:
                raise refuse(_PROBLEMS[exc.errno]) from None
            raise
        if not stat.S_ISDIR(st.st_mode):
            raise refuse(f"{parent} is {_special(st.st_mode) or 'a file'}, not a folder; check the path")
        limit = _name_max(parent)
        for name in missing:
            if len(os.fsencode(name)) > limit:
                raise refuse(
                    f"the name '{name[:40]}...' is {len(os.fsencode(name))} bytes, longer than the file system "
                    f"allows ({limit}); use a shorter path"
                )
        break
