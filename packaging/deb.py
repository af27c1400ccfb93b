"""Packaging: the Linux ``.deb`` of the built app folder, made with ``dpkg-deb --build``.

Layout of the package:

    /opt/qwen-desk/                      the PyInstaller onedir folder, unchanged
    /usr/bin/qwen-desk -> /opt/qwen-desk/qwen-desk
    /usr/share/applications/<id>.desktop the menu entry ("Open with" for PDF/DOCX/TXT/MD)
    /usr/share/icons/hicolor/*/apps/<id>.png|svg
    /usr/share/metainfo/<id>.metainfo.xml
    /usr/share/doc/qwen-desk/copyright

There are no maintainer scripts: the menu, MIME and icon caches are refreshed by the dpkg
triggers of desktop-file-utils, shared-mime-info and hicolor-icon-theme, and removing the package
(``dpkg -r``/``--purge``) never touches the user's data (``~/.local/share/QwenDesk`` etc.).
``Depends`` is computed from the shared libraries the bundle needs but does not carry.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

PACKAGE = "qwen-desk"
INSTALL_DIR = Path("opt") / PACKAGE
MAINTAINER = "Qwen Desk developers <qwen-desk@users.noreply.github.com>"
# PyPI's manylinux_2_28 wheels (torch, PySide6, lancedb) need at least this glibc.
GLIBC_FLOOR = "libc6 (>= 2.28)"
# Libraries that Qt's xcb/wayland plugins load and the build machine may not have installed:
# their Debian packages, so that the app starts on a plain desktop install.
KNOWN_SONAME_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
# Needed only by optional Qt plugins (the GTK platform theme: native dialogs on GNOME).
OPTIONAL_SONAME_PACKAGES = {"libgtk-3.so.0": "libgtk-3-0", "libgdk-3.so.0": "libgtk-3-0"}
RECOMMENDS = ("desktop-file-utils", "shared-mime-info", "hicolor-icon-theme")
# Always wanted on a desktop even if no bundled library links them directly. A CJK font is a
# dependency, not a recommendation: without one every Chinese character is drawn as a box.
CJK_FONT = "fonts-noto-cjk"
BASE_DEPENDS = (
    "libxcb-cursor0",
    "libxkbcommon-x11-0",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    CJK_FONT,
)

_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(not found|\S+)")


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]


def external_libraries(bundle: Path) -> tuple[dict[str, str], set[str]]:
    """Sonames the bundle's ELF files need but do not carry: ({soname: system path}, missing)."""
    bundled = {p.name for p in bundle.rglob("*") if ".so" in p.name}
    found: dict[str, str] = {}
    missing: set[str] = set()
    for elf in elf_files(bundle):
        result = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, check=False)
        for line in result.stdout.splitlines():
            match = _LDD_LINE.match(line)
            if not match or match.group(1) in bundled:
                continue
            soname, where = match.groups()
            if where == "not found":
                missing.add(soname)
            else:
                found[soname] = where
    return found, missing - set(found)


def owning_packages(paths: list[str]) -> set[str]:
    """Debian packages owning ``paths`` (``dpkg -S``), without the ``:arch`` suffix."""
    packages: set[str] = set()
    for path in paths:
        for candidate in {path, os.path.realpath(path)}:
            result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if result.returncode == 0:
                for line in result.stdout.splitlines():
                    owners = line.rsplit(": ", 1)[0] if ": " in line else ""
                    for owner in owners.split(","):
                        packages.add(owner.strip().split(":")[0])
                break
    return {p for p in packages if p}


def compute_depends(bundle: Path) -> tuple[list[str], list[str], list[str]]:
    """(Depends, Recommends, sonames nobody provides) for the bundle."""
    found, missing = external_libraries(bundle)
    optional = {name: found.pop(name) for name in list(found) if name in OPTIONAL_SONAME_PACKAGES}
    packages = owning_packages(sorted(found.values()))
    packages.discard("libc6")  # replaced by the versioned floor below
    recommends = set(RECOMMENDS) | owning_packages(sorted(optional.values()))
    unresolved = []
    for soname in sorted(missing):
        if soname in KNOWN_SONAME_PACKAGES:
            packages.add(KNOWN_SONAME_PACKAGES[soname])
        elif soname in OPTIONAL_SONAME_PACKAGES:
            recommends.add(OPTIONAL_SONAME_PACKAGES[soname])
        else:
            unresolved.append(soname)
    packages.update(BASE_DEPENDS)
    recommends -= packages
    return [GLIBC_FLOOR, *sorted(packages)], sorted(recommends), unresolved


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _normalise_modes(root: Path) -> None:
    """0755 for folders and executables, 0644 for everything else (lintian's expectations)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            executable = path.stat().st_mode & 0o111 or (is_elf(path) and ".so" not in path.name)
            path.chmod(0o755 if executable else 0o644)


def _installed_size_kib(root: Path) -> int:
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return (total + 1023) // 1024


def _md5sums(root: Path) -> str:
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.parts:
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            lines.append(f"{digest}  {path.relative_to(root).as_posix()}")
    return "\n".join(lines) + "\n"


def control_text(
    version: str, arch: str, depends: list[str], recommends: list[str], installed_kib: int
) -> str:
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(depends)}\n"
        f"Recommends: {', '.join(recommends)}\n"
        "Section: text\n"
        "Priority: optional\n"
        "Description: private, offline chat with your documents\n"
        " Qwen Desk answers questions about PDF, Word, Markdown and text files with a\n"
        " language model running locally (Ollama serving Qwen2.5), citing the page and\n"
        " passage of every claim. The embedding model is bundled: first use needs no\n"
        " download, and nothing leaves the machine.\n"
    )


def build_deb(
    *,
    bundle: Path,
    out_dir: Path,
    work_dir: Path,
    version: str,
    app_id: str,
    desktop_file: Path,
    metainfo_file: Path,
    svg_icon: Path,
    license_text: str,
    compression: str = "zstd",
    level: int = 9,
) -> tuple[Path, dict[str, object]]:
    """Stage the package tree under ``work_dir`` and build ``out_dir/<pkg>_<ver>_<arch>.deb``."""
    from icons import write_hicolor  # packaging/icons.py (this folder is on sys.path)

    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    root = work_dir / "debroot"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(bundle, root / INSTALL_DIR, symlinks=True, copy_function=_link_or_copy)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / PACKAGE).symlink_to(Path("/") / INSTALL_DIR / PACKAGE)
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copyfile(desktop_file, share / "applications" / f"{app_id}.desktop")
    (share / "metainfo").mkdir(parents=True)
    shutil.copyfile(metainfo_file, share / "metainfo" / f"{app_id}.metainfo.xml")
    write_hicolor(svg_icon, share / "icons", app_id)
    doc = share / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(license_text, encoding="utf-8")
    _normalise_modes(root)

    depends, recommends, unresolved = compute_depends(root / INSTALL_DIR)
    debian = root / "DEBIAN"
    debian.mkdir()
    (debian / "md5sums").write_text(_md5sums(root), encoding="utf-8")
    (debian / "control").write_text(
        control_text(version, arch, depends, recommends, _installed_size_kib(root)),
        encoding="utf-8",
    )
    for name in ("control", "md5sums"):
        (debian / name).chmod(0o644)
    debian.chmod(0o755)

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PACKAGE}_{version}_{arch}.deb"
    subprocess.run(
        [
            "dpkg-deb",
            "--root-owner-group",
            f"-Z{compression}",
            f"-z{level}",
            f"--threads-max={os.cpu_count() or 1}",
            "--build",
            str(root),
            str(target),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    info = {
        "depends": depends,
        "recommends": recommends,
        "unresolved_sonames": unresolved,
        "arch": arch,
    }
    return target, info
