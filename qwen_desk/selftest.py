"""Self-test of an installed (or source) Qwen Desk: ``qwen-desk --self-test [--report FILE]``.

Outside the layers (like ``app.py`` it may touch both Qt and the core), imported only when the
flag is given. It proves that a build works on this machine, offline, with nothing from the
user's own data: Qt runs offscreen (unless ``--display``), and ``QWEN_DESK_HOME`` points at a
fresh temporary folder whose path contains non-ASCII characters ("自检 数据").

Checks, each with name, ok, required, detail and seconds:

- ``qt``: a QApplication, a widget rendered to a pixmap, the svg imageformat plugin drawing the
  app icon, the light and dark theme style sheets found;
- ``translations``: our zh_CN ``.qm`` is found (or built) and translates a known string;
- ``embedding``: the bundled model loads and embeds (expected dimension, unit vectors); in a
  frozen build the model must come from inside the bundle;
- ``lancedb``: the knowledge base opens under the non-ASCII path;
- ``ingest_search``: a generated PDF (pymupdf) and DOCX (python-docx) go through the real
  ``IngestService`` (sandboxed parser child, chunking, embedding, store) and are found by search;
- ``ollama``: the daemon's state at the configured host (unreachable is reported, not failed).

The JSON report is ``{"ok", "checks": [...], "version", "python", "platform", "frozen",
"resources", ...}`` (``resources``: the folder the icons, themes and translations came from);
the exit status is 0 only when every required check passed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qwen_desk import __version__

NON_ASCII_DIR = "自检 数据"
COLLECTION = "自检"
INGEST_TIMEOUT_S = 180.0
BUNDLE_MANIFEST = "qwen_desk_bundle.json"
# Distinctive facts written into the generated documents and searched for afterwards.
PDF_FACT = "The zebrafish aquarium in building seven is calibrated every quarter by Dr. Okafor."
PDF_FACT_ZH = "七号楼的斑马鱼水族箱每个季度由奥卡福博士校准一次。"
PDF_QUERY = "zebrafish aquarium calibration"
DOCX_FACT = "Invoice 4471 for the granite countertops was paid by the Lindqvist bakery in March."
DOCX_QUERY = "granite countertops invoice Lindqvist"


@dataclass
class Check:
    name: str
    ok: bool
    required: bool
    detail: str
    seconds: float


class Context:
    """What the checks share: the temp home, the Qt app, the knowledge base."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.app: Any = None
        self.kb: Any = None


# --- helpers ---------------------------------------------------------------------------------


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_manifest() -> dict[str, Any]:
    """The build's manifest next to the frozen app ({} from a source tree)."""
    root = getattr(sys, "_MEIPASS", None)
    if not root:
        return {}
    try:
        data = json.loads((Path(root) / BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def resources_folder() -> str:
    """Where the icons, themes and translations were looked up ('' when Qt is missing)."""
    try:
        from qwen_desk.ui.assets import resources_dir
    except ImportError:
        return ""
    return str(resources_dir())


def _timed(name: str, required: bool, func: Callable[[], str], checks: list[Check]) -> bool:
    """Run one check; an exception fails it with the exception as detail."""
    started = time.monotonic()
    try:
        detail, ok = func(), True
    except Exception as exc:  # every failure becomes a line of the report
        ok = False
        detail = f"{type(exc).__name__}: {exc}"
        if os.environ.get("QWEN_DESK_SELFTEST_TRACE"):
            detail += "\n" + traceback.format_exc()
    checks.append(Check(name, ok, required, detail, round(time.monotonic() - started, 3)))
    mark = "ok  " if ok else ("FAIL" if required else "warn")
    print(f"[self-test] {mark} {name}: {detail.splitlines()[0] if detail else ''}", file=sys.stderr)
    return ok


@contextlib.contextmanager
def temporary_home(keep: bool) -> Iterator[Path]:
    """A fresh ``QWEN_DESK_HOME`` under a non-ASCII folder name, restored afterwards."""
    base = Path(tempfile.mkdtemp(prefix="qwen-desk-selftest-"))
    home = base / NON_ASCII_DIR
    home.mkdir()
    previous = os.environ.get("QWEN_DESK_HOME")
    os.environ["QWEN_DESK_HOME"] = str(home)
    try:
        yield home
    finally:
        if previous is None:
            os.environ.pop("QWEN_DESK_HOME", None)
        else:
            os.environ["QWEN_DESK_HOME"] = previous
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


# --- the checks ------------------------------------------------------------------------------


def check_qt(ctx: Context) -> str:
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QImage, QImageReader, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication, QLabel

    from qwen_desk.ui.assets import APP_ICON, resource

    ctx.app = QApplication.instance() or QApplication([sys.argv[0]])
    formats = {bytes(f).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        raise RuntimeError(f"the svg imageformat plugin is missing (have: {sorted(formats)})")
    icon_file = resource("icons", APP_ICON)
    icon = QImage(str(icon_file))  # through the svg imageformat plugin
    if icon.isNull():
        raise RuntimeError(f"cannot load the app icon {icon_file}")
    renderer = QSvgRenderer(str(icon_file))
    image = QImage(QSize(32, 32), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    if image.pixelColor(16, 16).alpha() == 0 and image.pixelColor(8, 8).alpha() == 0:
        raise RuntimeError("the icon rendered to nothing")
    from qwen_desk.ui.theme import style_sheet

    missing = [scheme for scheme in ("light", "dark") if not style_sheet(scheme).strip()]
    if missing:
        raise RuntimeError(f"theme style sheets {missing} missing from {resource('themes')}")
    label = QLabel("Qwen Desk 自检 self-test")
    label.resize(320, 80)
    label.show()
    ctx.app.processEvents()
    pixmap = label.grab()
    label.close()
    if pixmap.isNull() or pixmap.width() < 10:
        raise RuntimeError("the widget did not render")
    return (
        f"platform {ctx.app.platformName()}, widget rendered {pixmap.width()}x{pixmap.height()}, "
        f"svg icon {icon.width()}x{icon.height()}, themes light, dark, "
        f"{len(formats)} image formats"
    )


def _translation_sample() -> tuple[str, str, str] | None:
    """(context, source, translation) of a finished zh_CN message, from the .ts or the build."""
    sample = bundle_manifest().get("translation_sample")
    if isinstance(sample, dict) and all(k in sample for k in ("context", "source", "translation")):
        return sample["context"], sample["source"], sample["translation"]
    from qwen_desk.ui.i18n import ts_file

    ts = ts_file("zh_CN")
    return first_translated_message(ts) if ts.is_file() else None


def first_translated_message(ts: Path) -> tuple[str, str, str] | None:
    """The first finished, non-plural message of a Qt ``.ts`` file (named contexts first)."""
    import xml.etree.ElementTree as ET

    found: list[tuple[str, str, str]] = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            if message.get("numerus") == "yes":
                continue
            source = message.findtext("source") or ""
            node = message.find("translation")
            if node is None or node.get("type") in ("unfinished", "obsolete", "vanished"):
                continue
            if source and node.text and node.text != source:
                if name:
                    return name, source, node.text
                found.append((name, source, node.text))
    return found[0] if found else None


def check_translations(ctx: Context) -> str:
    from PySide6.QtCore import QTranslator

    from qwen_desk.ui.i18n import compiled_qm

    qm = compiled_qm("zh_CN")
    if qm is None:
        raise RuntimeError("no zh_CN translation (.qm) found or built")
    translator = QTranslator()
    if not translator.load(str(qm)) or translator.isEmpty():
        raise RuntimeError(f"cannot load {qm}")
    sample = _translation_sample()
    if sample is None:
        raise RuntimeError("no translated zh_CN message known to test against")
    context, source, expected = sample
    got = translator.translate(context, source)
    if got != expected:
        raise RuntimeError(f"{context}/{source!r} translated to {got!r}, expected {expected!r}")
    return f"{qm.name}: {source!r} -> {got!r}"


def check_embedding(ctx: Context) -> str:
    import numpy as np

    from qwen_desk.core.knowledge import KnowledgeBase

    ctx.kb = KnowledgeBase()
    embedder = ctx.kb.embedder
    started = time.monotonic()
    embedder.load()
    load_s = time.monotonic() - started
    vectors = embedder.embed_documents(["Qwen Desk self-test.", "离线文档问答自检。"])
    if vectors.shape != (2, embedder.dim):
        raise RuntimeError(f"vectors of shape {vectors.shape}, expected (2, {embedder.dim})")
    norms = np.linalg.norm(vectors, axis=1)
    if not np.allclose(norms, 1.0, atol=1e-3):
        raise RuntimeError(f"vectors are not unit length: {norms}")
    model_path = Path(embedder.path).resolve()
    root, bundled = getattr(sys, "_MEIPASS", None), bundle_manifest().get("embed_model")
    if root and bundled and model_path != (Path(root) / bundled).resolve():
        raise RuntimeError(
            f"frozen build loaded {model_path}, not the bundled model {Path(root) / bundled}"
        )
    return f"{embedder.model_id}, dim {embedder.dim}, loaded in {load_s:.1f} s from {model_path}"


def check_lancedb(ctx: Context) -> str:
    if ctx.kb is None:
        from qwen_desk.core.knowledge import KnowledgeBase

        ctx.kb = KnowledgeBase()
    store = ctx.kb.store
    store.ensure_collection(COLLECTION)
    names = [c.name for c in store.list_collections()]
    if COLLECTION not in names:
        raise RuntimeError(f"collection {COLLECTION!r} not listed: {names}")
    root = Path(ctx.kb.root)
    if not root.is_dir() or NON_ASCII_DIR not in str(root):
        raise RuntimeError(f"knowledge base folder {root} missing or not under {NON_ASCII_DIR!r}")
    return f"opened {root} ({len(names)} collections)"


def make_pdf(path: Path) -> Path:
    import fitz  # pymupdf

    document = fitz.open()
    page = document.new_page()
    page.insert_text((72, 72), "Self-test report", fontsize=18)
    page.insert_textbox(fitz.Rect(72, 100, 520, 300), PDF_FACT, fontsize=12)
    page.insert_textbox(fitz.Rect(72, 320, 520, 400), PDF_FACT_ZH, fontsize=12, fontname="china-s")
    document.set_metadata({"title": "Qwen Desk self-test PDF"})
    document.save(str(path))
    document.close()
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Bakery accounts", level=1)
    document.add_paragraph(DOCX_FACT)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Invoice", "Amount"
    table.cell(1, 0).text, table.cell(1, 1).text = "4471", "12 400 SEK"
    document.save(str(path))
    return path


def check_ingest_search(ctx: Context) -> str:
    from qwen_desk.core.types import IngestState

    if ctx.kb is None:
        raise RuntimeError("the knowledge base did not open (see the lancedb check)")
    folder = ctx.home / "文档 docs"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = make_pdf(folder / "斑马鱼 报告.pdf")
    docx_file = make_docx(folder / "面包店 账目.docx")

    finished: dict[int, Any] = {}
    done = threading.Condition()

    def on_event(event: Any) -> None:
        if event.finished:
            with done:
                finished[event.job_id] = event
                done.notify_all()

    ingest = ctx.kb.ingest
    unsubscribe = ingest.subscribe(on_event)
    started = time.monotonic()
    try:
        jobs = set(ingest.add_paths([pdf, docx_file], COLLECTION))
        with done:
            done.wait_for(lambda: jobs.issubset(finished), timeout=INGEST_TIMEOUT_S)
    finally:
        unsubscribe()
    ingest_s = time.monotonic() - started
    if not jobs.issubset(finished):
        raise RuntimeError(f"ingestion did not finish in {INGEST_TIMEOUT_S:.0f} s")
    for job in sorted(jobs):
        event = finished[job]
        if event.state is not IngestState.READY:
            reason = f" ({event.error.code}: {event.error.message})" if event.error else ""
            raise RuntimeError(f"{Path(event.path).name}: {event.state.value}{reason}")

    found = []
    for query, expected in ((PDF_QUERY, pdf), (DOCX_QUERY, docx_file)):
        hits = ctx.kb.search(query, COLLECTION, k=3)
        if not hits or Path(hits[0].path).name != expected.name:
            top = [Path(h.path).name for h in hits]
            raise RuntimeError(f"search {query!r}: expected {expected.name} first, got {top}")
        found.append(f"{query!r} -> {expected.name} p{hits[0].page}")
    chunks = sum(finished[j].chunks for j in jobs)
    return f"2 files, {chunks} chunks in {ingest_s:.1f} s; " + "; ".join(found)


def check_ollama(ctx: Context) -> str:
    import asyncio

    from qwen_desk.core.errors import QwenDeskError
    from qwen_desk.core.llm import make_backend
    from qwen_desk.core.settings import Settings

    settings = Settings.load()

    async def probe() -> str:
        backend = make_backend(settings)
        try:
            version = await backend.version()
            models = [m.name for m in await backend.list_models()]
        finally:
            await backend.aclose()
        present = "present" if settings.model in models else "missing"
        return f"reachable at {backend.host}, version {version}; {settings.model} {present}"

    try:
        return asyncio.run(asyncio.wait_for(probe(), timeout=10))
    except (QwenDeskError, OSError, asyncio.TimeoutError) as exc:
        message = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        return f"unreachable at {settings.ollama_host} ({message}); not a failure here"


CHECKS: Sequence[tuple[str, bool, Callable[[Context], str]]] = (
    ("qt", True, check_qt),
    ("translations", True, check_translations),
    ("embedding", True, check_embedding),
    ("lancedb", True, check_lancedb),
    ("ingest_search", True, check_ingest_search),
    ("ollama", False, check_ollama),
)


# --- entry point -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qwen-desk --self-test", description="Check that this Qwen Desk works, offline."
    )
    parser.add_argument("--self-test", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", help="write the JSON report to this file")
    parser.add_argument("--display", action="store_true", help="use the real display")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--only", action="append", help="run only these checks (repeatable)")
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Run the checks; write the report; 0 only when every required check passed."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if not args.display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ.setdefault(key, "1")
    started = time.monotonic()
    checks: list[Check] = []
    with temporary_home(args.keep) as home:
        ctx = Context(home)
        try:
            for name, required, func in CHECKS:
                if args.only and name not in args.only:
                    continue
                _timed(name, required, lambda f=func: f(ctx), checks)
        finally:
            if ctx.kb is not None:
                ctx.kb.close()
    manifest = bundle_manifest()
    report = {
        "ok": all(c.ok for c in checks if c.required),
        "checks": [asdict(c) for c in checks],
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "frozen": is_frozen(),
        "executable": sys.executable,
        "embed_model": manifest.get("embed_model", ""),
        "resources": resources_folder(),
        "home": str(home),
        "seconds": round(time.monotonic() - started, 2),
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.report:
        Path(args.report).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    print(f"[self-test] {'PASSED' if report['ok'] else 'FAILED'}", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(run())
