"""Core layer: reading the parts of a Word (.docx) package safely, Transitional or Strict.

A .docx is a zip of XML parts found through relationship files. This module opens the zip,
follows the relationships (by the last segment of their type, so Transitional and ISO Strict
names both match), and parses parts with a hardened lxml parser: no entity resolution, no DTD
loading, no network (the XXE probe in the corpus must not reach anything). Strict namespaces
are rewritten to Transitional ones so the walker knows one vocabulary.

python-docx is deliberately not used to open the package: it raises on Strict files
(KeyError), on some grid offsets (ValueError) and does not reach footnotes, endnotes or text
boxes; everything here needs only the XML, which python-docx would hand over anyway.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from qwen_desk.core.errors import CorruptFile, FileTooLarge

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
STRICT_TO_TRANSITIONAL = (
    (b"http://purl.oclc.org/ooxml/wordprocessingml/main", W_NS.encode()),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships", R_NS.encode()),
)
# Zip bombs are refused from the zip's directory, before any part is inflated: a part larger
# than MAX_PART_BYTES, parts adding up to more than MAX_TOTAL_BYTES, or a part above
# RATIO_FLOOR_BYTES that expands more than MAX_RATIO times (real Word XML: 5-30 times).
MAX_PART_BYTES = 128 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 8 * 1024 * 1024
MAIN_REL = "officeDocument"


def _parser() -> Any:
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


class Package:
    """The parts of one .docx, opened from ``path`` (or from the decrypted bytes of an
    encrypted file, named ``name``); raises CorruptFile for damaged zips."""

    def __init__(self, path: Path | BinaryIO, name: str = "") -> None:
        self.name = name or (path.name if isinstance(path, Path) else "document")
        try:
            self._zip = zipfile.ZipFile(path)
            self._names = set(self._zip.namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CorruptFile(f"{self.name} is damaged (not a complete zip file): {exc}") from exc
        try:
            check_expansion(self._zip.infolist(), self.name)
        except FileTooLarge:
            self._zip.close()
            raise
        self._etree_parser = _parser()
        self.strict = False
        package_rels = self.relationships("")
        main = package_rels.get_first(MAIN_REL)
        if main is None:
            raise CorruptFile(f"{self.name} is not a Word document (no main document part)")
        self.main_part = main
        self.strict = self._read(main).find(b"purl.oclc.org/ooxml/wordprocessingml") != -1

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, part: str) -> bytes:
        if part not in self._names:
            raise CorruptFile(f"{self.name} is damaged: part {part} is missing")
        info = self._zip.getinfo(part)
        if info.file_size > MAX_PART_BYTES:
            raise FileTooLarge(f"{self.name}: part {part} is too large ({info.file_size} bytes)")
        try:
            return self._zip.read(part)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise CorruptFile(f"{self.name} is damaged: {part} cannot be read ({exc})") from exc

    def xml(self, part: str) -> Any:
        """The root element of ``part`` (Strict namespaces rewritten to Transitional)."""
        from lxml import etree

        data = self._read(part)
        for strict, transitional in STRICT_TO_TRANSITIONAL:
            data = data.replace(strict, transitional)
        try:
            return etree.fromstring(data, self._etree_parser)
        except etree.XMLSyntaxError as exc:
            raise CorruptFile(f"{self.name} is damaged: {part} is not valid XML ({exc})") from exc

    def has(self, part: str) -> bool:
        return part in self._names

    def relationships(self, part: str) -> Relationships:
        """The relationships of ``part`` ("" for the package itself)."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
        rels = Relationships()
        if rels_name not in self._names:
            return rels
        for rel in self.xml(rels_name).iter(f"{{{REL_NS}}}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            resolved = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            rels.add(rel.get("Id", ""), rel.get("Type", "").rsplit("/", 1)[-1], resolved)
        return rels


def check_expansion(infos: list[zipfile.ZipInfo], name: str) -> None:
    """Raise FileTooLarge when the zip's directory announces a zip bomb (nothing is read)."""
    mb = 1024 * 1024
    total = 0
    for info in infos:
        size, packed = info.file_size, max(info.compress_size, 1)
        total += size
        if size > MAX_PART_BYTES or (size > RATIO_FLOOR_BYTES and size / packed > MAX_RATIO):
            raise FileTooLarge(
                f"{name} was refused: {info.filename} would expand from {packed / mb:.1f} MB "
                f"to {size / mb:.0f} MB ({size / packed:.0f} times; the limits are "
                f"{MAX_PART_BYTES // mb} MB a part and {MAX_RATIO} times)",
                part=info.filename,
                expanded_bytes=size,
            )
    if total > MAX_TOTAL_BYTES:
        raise FileTooLarge(
            f"{name} was refused: its parts would expand to {total / mb:.0f} MB "
            f"(the limit is {MAX_TOTAL_BYTES // mb} MB)",
            expanded_bytes=total,
        )


class Relationships:
    """rId -> part, and the parts of each relationship type (by the type's last segment)."""

    def __init__(self) -> None:
        self.by_id: dict[str, str] = {}
        self.by_type: dict[str, list[str]] = {}

    def add(self, rid: str, kind: str, part: str) -> None:
        self.by_id[rid] = part
        self.by_type.setdefault(kind, []).append(part)

    def get_first(self, kind: str) -> str | None:
        parts = self.by_type.get(kind)
        return parts[0] if parts else None
