"""Packaging: turn the one SVG app icon into every raster format the installers need.

``resources/icons/qwen-desk.svg`` is the only source. This module renders it with Qt's
``QSvgRenderer`` (offscreen, no X server, same result on Linux, Windows and macOS runners) into
hicolor PNGs (16..512 px, Linux), a multi-size ``.ico`` (Windows) and an ``.icns`` (macOS). The
``.ico`` and ``.icns`` containers hold PNG images and are written here byte by byte, so no
Pillow, ImageMagick or iconutil is needed.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from pathlib import Path

HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (Apple's "icp4".."ic10").
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}
ICNS_TYPES_2X = {1024: b"ic10"}


def _app() -> object:
    """A QGuiApplication for rendering (offscreen unless a display is wanted)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication(["qwen-desk-icons"])


def render_png(svg: Path, size: int) -> bytes:
    """The SVG rendered to a ``size`` x ``size`` PNG (transparent background)."""
    _app()
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"not a valid SVG: {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"Qt could not encode a {size}px PNG")
    buffer.close()
    return bytes(data.data())


def write_hicolor(
    svg: Path, share_icons: Path, name: str, sizes: Iterable[int] = HICOLOR_SIZES
) -> list[Path]:
    """``<share_icons>/hicolor/<n>x<n>/apps/<name>.png`` for each size, plus the scalable SVG."""
    written = []
    for size in sizes:
        target = share_icons / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render_png(svg, size))
        written.append(target)
    scalable = share_icons / "hicolor" / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(svg.read_bytes())
    written.append(scalable)
    return written


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows ``.ico`` holding one PNG per size (PNG entries: Windows Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS ``.icns`` holding PNG elements (sizes 16..1024 that are given)."""
    body = b""
    for size, kind in {**ICNS_TYPES, **ICNS_TYPES_2X}.items():
        if size in pngs:
            body += kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_ico(svg: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(ico_bytes({size: render_png(svg, size) for size in ICO_SIZES}))
    return target


def write_icns(svg: Path, target: Path) -> Path:
    sizes = (*ICNS_TYPES, *ICNS_TYPES_2X)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(icns_bytes({size: render_png(svg, size) for size in sizes}))
    return target
