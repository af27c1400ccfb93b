"""Core layer: what a dropped path means for ingestion: the files under it, and their identity.

``expand_paths`` turns the files and folders a user dropped into the list of files to index
(folders recursively, in a stable order), telling apart files given explicitly (an unsupported
one is an error the user must see) from files found inside folders (an unsupported one is only
reported as skipped). Hidden files and the temporary files of office suites (``~$x.docx``,
``.~lock.x#``, ``x.tmp``) are ignored without a word. ``file_sha256`` hashes a file in bounded
memory; the digest is the document id.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qwen_desk.core.errors import Cancelled

_TEMP_PREFIXES = ("~$", ".~lock", "~WRL")
_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".crdownload", ".swp", "~")
HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class FoundFile:
    path: Path
    explicit: bool  # named by the user rather than found while walking a folder
    supported: bool


def is_ignored(name: str) -> bool:
    """Hidden files and editors' or office suites' temporary files."""
    return (
        name.startswith(".")
        or name.startswith(_TEMP_PREFIXES)
        or name.lower().endswith(_TEMP_SUFFIXES)
        or name in ("Thumbs.db", "desktop.ini")
    )


def expand_paths(
    items: Iterable[str | os.PathLike[str]],
    is_supported: Callable[[Path], bool],
    should_stop: Callable[[], bool] | None = None,
) -> list[FoundFile]:
    """Files to ingest, in order: each explicit path, or the files under each folder (sorted).

    Explicit paths are kept even when missing or unsupported (the caller reports them); ignored
    names inside folders are dropped. A file reached twice is listed once. ``should_stop`` is
    asked between entries: when it says so the walk ends with ``Cancelled`` (the app is quitting).
    """
    found: dict[Path, FoundFile] = {}  # insertion-ordered

    def keep(path: Path, explicit: bool) -> None:
        key = _resolved(path)
        if key not in found or (explicit and not found[key].explicit):
            found[key] = FoundFile(key, explicit, is_supported(key))

    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            for child in _walk(path):
                if should_stop is not None and should_stop():
                    raise Cancelled("folder walk stopped")
                keep(child, explicit=False)
        else:
            keep(path.absolute(), explicit=True)
    return list(found.values())


def _resolved(path: Path) -> Path:
    """``path`` with its links resolved; as it is when a link loops (``resolve`` raises
    RuntimeError on Python < 3.13) or cannot be read: indexing it then fails with a code."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _walk(folder: Path) -> Iterator[Path]:
    """Regular files under ``folder``, depth first, names sorted; hidden folders skipped.

    Links to folders are not followed (a link to ``..`` cannot loop the walk); a link to a
    file is kept, and a link that loops or dangles, a FIFO or a device are left out.
    """
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if is_ignored(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))
            elif entry.is_file():
                yield Path(entry.path)
        except OSError:
            continue


def file_sha256(path: Path, should_cancel: Callable[[], bool] | None = None) -> str:
    """Hex sha256 of the file's bytes, read in 1 MiB blocks (cancellable between blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
            if should_cancel is not None and should_cancel():
                raise Cancelled()
    return digest.hexdigest()
