"""Render the main screens of Qwen Desk to PNG files for review (not a test: a script).

    .venv/bin/python tests/screenshots.py OUT_DIR [--lang en zh_CN] [--theme light dark]
                                                  [--set main|window]

Each language/theme pair runs in a fresh process (the UI language is fixed at start-up, as in
the app) with its own ``QWEN_DESK_HOME``, the real app (``qwen_desk.app.build``) on the qasync
loop, the real knowledge base and the Ollama stand-in of ``tests/support`` as the daemon.
Screens: empty state, drop highlight, ingesting, settings (two tabs), password prompt, answer
with citations, source viewer on a PDF page, and the Ollama-missing panel. ``--set window``
instead: a question asked of the empty knowledge base, the same asked without documents, and the
conversation list with a long title and with a search that matches nothing. Files are named
``<screen>-<lang>-<theme>.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SIZE = (1280, 800)

QUESTIONS = {
    "en": "How long does the male emperor penguin keep the egg warm?",
    "zh_CN": "大熊猫每天吃多少竹子？",
}
LONG_TITLES = {
    "en": "Notice periods, renewal options and early termination clauses in the office lease",
    "zh_CN": "关于办公室租赁合同中通知期限、续租选择权以及提前解约条款的详细讨论与分析",
}
NO_MATCH = {"en": "zebra crossing", "zh_CN": "斑马线"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lang", nargs="+", default=["en", "zh_CN"])
    parser.add_argument("--theme", nargs="+", default=["light", "dark"])
    parser.add_argument("--set", choices=["main", "window"], default="main", dest="screens")
    parser.add_argument("--child", nargs=2, metavar=("LANG", "THEME"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        return asyncio_child(args.out, *args.child, screens=args.screens)
    failures = 0
    for lang in args.lang:
        for theme in args.theme:
            with tempfile.TemporaryDirectory(prefix="qwen-desk-shots-") as home:
                env = dict(
                    os.environ,
                    QWEN_DESK_HOME=home,
                    QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                    HF_HUB_OFFLINE="1",
                    PYTHONPATH=str(REPO),
                )
                command = [sys.executable, __file__, str(args.out), "--child", lang, theme]
                command += ["--set", args.screens]
                result = subprocess.run(command, env=env, timeout=600)
                failures += result.returncode != 0
                print(f"{lang}/{theme}: {'ok' if result.returncode == 0 else 'FAILED'}")
    return 1 if failures else 0


# --- child: one language and theme -----------------------------------------------------------


def asyncio_child(out: Path, lang: str, theme: str, screens: str = "main") -> int:
    from tests.support.ollama_standin import OllamaStandIn

    with OllamaStandIn(models=["qwen2.5:7b"], tokens_per_second=400, ttft_s=0.05) as server:
        from qwen_desk.core.settings import Settings

        Settings(ui_language=lang, theme=theme, ollama_host=server.url).save()
        from qwen_desk.app import build

        desk = build([])
        desk.window.resize(*SIZE)
        import qasync

        loop = qasync.QEventLoop(desk.app)
        asyncio.set_event_loop(loop)
        sys.set_asyncgen_hooks(
            firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
        )
        shots = Shots(desk, out, lang, theme, server)
        with loop:
            loop.run_until_complete(shots.run() if screens == "main" else shots.run_window())
        desk.window.close()
        desk.services.close()
    return 0


class Shots:
    def __init__(self, desk: Any, out: Path, lang: str, theme: str, server: Any) -> None:
        self.desk, self.out, self.lang, self.theme, self.server = desk, out, lang, theme, server
        self.window = desk.window
        self.docs = Path(tempfile.mkdtemp(prefix="qwen-desk-docs-"))

    async def until(self, condition: Callable[[], Any], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(getattr(condition, "__name__", "condition"))
            await asyncio.sleep(0.05)

    async def save(self, name: str, widget: Any = None) -> None:
        await asyncio.sleep(0.3)  # let layouts settle and pending paints run
        widget = widget or self.window
        path = self.out / f"{name}-{self.lang}-{self.theme}.png"
        widget.grab().save(str(path))
        print(path)

    async def run(self) -> None:
        from qwen_desk.core.types import IngestState

        w = self.window
        k = w.knowledge
        await self.until(lambda: k.ready)
        ollama = w.ollama
        if ollama is not None:
            await self.until(lambda: ollama.state == "connected", 30)
        await self.save("empty")
        w.drop_overlay.reveal()  # what a drag of files over the window looks like
        await self.save("drop")
        w.drop_overlay.hide()

        files = self.make_documents()
        w.open_paths([str(p) for p in files])
        model = k.document_model
        await self.until(
            lambda: (
                any(i.state is IngestState.EMBEDDING for i in model.items())
                and model.rowCount() >= 2
            )
        )
        await self.save("ingesting")
        await self.until(
            lambda: model.rowCount() == len(files) and not any(i.active for i in model.items()),
            180,
        )

        w.open_settings()
        await self.save("settings", w.settings_dialog)
        w.settings_dialog.tabs.setCurrentIndex(2)
        await self.save("settings-appearance", w.settings_dialog)
        w.settings_dialog.reject()

        sidebar = w.knowledge_sidebar
        sidebar.ask_password(str(self.locked.resolve()))
        await self.save("password", sidebar.password_dialog)
        sidebar.password_dialog.reject()

        chat = w.chat
        if chat is not None:
            chat.ask(QUESTIONS.get(self.lang, QUESTIONS["en"]))
            await self.until(lambda: chat.busy, 10)
            await self.until(lambda: not chat.busy, 60)
            await self.save("answer")
            row = chat.model.rowCount() - 1
            chat.open_citation(row, 1)
            viewer = w.source_viewer
            if viewer is not None:
                await self.until(lambda: viewer.isVisible(), 10)
                # the page renders in the parser process (a text source shows at once)
                try:
                    await self.until(lambda: not viewer.is_pdf or viewer.highlighted_rects(), 90)
                except TimeoutError:
                    print("the source viewer did not render the page", file=sys.stderr)
                await self.save("source")
                viewer.hide()

        self.server.stop()  # the daemon goes away
        if ollama is not None:
            ollama.retry_now()
            await self.until(lambda: ollama.state in ("unreachable", "wrong_host"), 40)
        await self.save("ollama-missing")

    async def run_window(self) -> None:
        """The empty-knowledge-base answer and the conversation list (``--set window``)."""
        w = self.window
        await self.until(lambda: w.knowledge.ready)
        if w.ollama is not None:
            await self.until(lambda: w.ollama.state == "connected", 30)
        chat = w.chat
        chat.ask(QUESTIONS.get(self.lang, QUESTIONS["en"]))
        await self.until(lambda: chat.task is not None and chat.task.done(), 60)
        await self.save("no-documents")
        chat.ask_without_documents()
        await self.until(lambda: chat.task is not None and chat.task.done(), 60)
        await self.save("asked-without-documents")
        conversation = chat.conversation_id
        store = self.desk.services.conversations
        for title in ("Penguins", "大熊猫"):
            other = store.create(collection="default", title=title)
            store.add_message(other.id, "user", title)
        chat.rename_conversation(conversation, LONG_TITLES.get(self.lang, LONG_TITLES["en"]))
        chat.load_conversations()
        listed = w.conversation_list
        await self.until(lambda: chat.conversations.rowCount() == 3, 10)
        await self.save("conversations-long-title")
        listed.search.setText(NO_MATCH.get(self.lang, NO_MATCH["en"]))
        await self.until(lambda: listed.no_matches.isVisible(), 10)
        await self.save("conversations-no-match")

    def make_documents(self) -> list[Path]:
        from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS, long_text, make_docx, make_pdf

        corrupt = self.docs / "scan-broken.pdf"
        corrupt.write_bytes(b"%PDF-1.4\n" + os.urandom(2048))
        name = "保密协议.pdf" if self.lang == "zh_CN" else "Confidential agreement.pdf"
        self.locked = make_pdf(self.docs / name, EN_PAGES[:1], password="secret")
        if self.lang == "zh_CN":
            main = [
                make_pdf(self.docs / "大熊猫研究报告.pdf", ZH_PARAGRAPHS * 2),
                make_docx(self.docs / "长江流域概况.docx", "长江", ZH_PARAGRAPHS),
            ]
        else:
            main = [
                make_pdf(self.docs / "Antarctic wildlife.pdf", EN_PAGES),
                make_docx(self.docs / "Field notes.docx", "Field notes", EN_PAGES[1:]),
            ]
        big = make_pdf(
            self.docs / "Annual report 2025.pdf",
            [long_text(8, seed=i) for i in range(40)],
        )
        return [*main, corrupt, self.locked, big]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
