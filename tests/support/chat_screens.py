"""Screens of the conversation side rendered to PNG for review (English/Chinese, light/dark).

``render_all(out_dir, language, scheme)`` builds the real widgets on real parts (the stand-in
daemon, the conversation store, the parser child for the PDF page) and saves: the chat pane
with a cited answer (table, list, code), the "not in your documents" and stopped states, the
model bar, the Ollama-missing panel, the pull dialog mid-download, the source viewer on a PDF
page with its highlight and on a DOCX passage, and the conversation list. GUI-shell's
``tests/screenshots.py`` may call it; on its own:

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.support.chat_screens OUT_DIR
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from qwen_desk.models import pyside_none_fix  # noqa: F401

ANSWER_EN = (
    "## Notice and penalties\n\n"
    "The tenant must give **sixty days** written notice before leaving [1]. Late payment "
    "costs two percent per week [2], capped at ten percent [2, 3].\n\n"
    "- Notice: sixty days [1]\n- Penalty cap: 10% [3]\n\n"
    "| Clause | Period | Source |\n|---|---|---|\n| Notice | 60 days | [1] |\n"
    "| Penalty | weekly | [2] |\n\n"
    "```python\ndef penalty(weeks: int, rent: float) -> float:\n"
    "    return min(0.02 * weeks, 0.10) * rent\n```\n"
)
ANSWER_ZH = (
    "## 通知期与违约金\n\n承租人须提前**六十天**书面通知[1]。逾期付款每周收取百分之二的违约金[2]，"
    "最高不超过百分之十[2, 3]。\n\n- 通知期：六十天[1]\n- 违约金上限：10%[3]\n\n"
    "| 条款 | 期限 | 来源 |\n|---|---|---|\n| 通知 | 60天 | [1] |\n| 违约金 | 每周 | [2] |\n"
)


def _spin(app: Any, seconds: float = 0.2) -> None:
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _messages(zh: bool, pdf: str) -> list[Any]:
    from qwen_desk.core.types import Citation, MessageRecord, MessageState

    snippet = (
        "承租人应在终止租约前六十天以书面形式通知出租人。"
        if zh
        else "The tenant shall give sixty days written notice before terminating the lease."
    )
    citations = [
        Citation(n, f"c{n}", "d", pdf, "lease", n, 0, 40, snippet, [(56, 60, 400, 80)])
        for n in (1, 2, 3)
    ]
    stats = {"ttft_s": 0.38, "tokens_per_s": 151.4, "model": "qwen2.5:7b"}
    return [
        MessageRecord(
            1,
            1,
            "user",
            "租约的通知期和违约金是多少？" if zh else "What are the notice period and penalties?",
        ),
        MessageRecord(
            2,
            1,
            "assistant",
            ANSWER_ZH if zh else ANSWER_EN,
            MessageState.DONE,
            citations,
            "qwen2.5:7b",
            stats,
            trimmed={"sources_dropped": 2},
        ),
        MessageRecord(3, 1, "user", "月球上有租约吗？" if zh else "Is there a lease on the moon?"),
        MessageRecord(
            4,
            1,
            "assistant",
            "在您的文档中没有找到相关内容。" if zh else "Your documents do not cover this.",
            stats={"done_reason": "not_in_documents"},
            model="qwen2.5:7b",
        ),
        MessageRecord(5, 1, "user", "再说一遍" if zh else "Say it again"),
        MessageRecord(
            6,
            1,
            "assistant",
            "承租人须提前" if zh else "The tenant must give",
            MessageState.FAILED,
            model="qwen2.5:7b",
            error_code="stream_interrupted",
        ),
    ]


async def render_all(out_dir: Path, language: str, scheme: str) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from qwen_desk.controllers.chat_controller import ChatController
    from qwen_desk.controllers.ollama_controller import OllamaController
    from qwen_desk.controllers.services import AppServices
    from qwen_desk.core.settings import Settings
    from qwen_desk.core.types import Citation, PullProgress
    from qwen_desk.ui import theme
    from qwen_desk.ui.chat_panel import ChatPanel
    from qwen_desk.ui.conversation_list import ConversationList
    from qwen_desk.ui.model_bar import ModelBar
    from qwen_desk.ui.ollama_panel import OllamaPanel
    from qwen_desk.ui.pull_dialog import PullDialog
    from qwen_desk.ui.source_viewer import SourceViewer
    from tests.support.kb import ZH_PARAGRAPHS, make_docx, make_pdf
    from tests.support.ollama_standin import OllamaStandIn, free_port

    app = QApplication.instance()
    assert app is not None
    app.setStyle("Fusion")
    app.setPalette(theme.palette_for(scheme))
    app.setStyleSheet(theme.style_sheet(scheme))
    zh = language == "zh_CN"
    tag = f"{language}_{scheme}"
    out_dir.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def save(widget: Any, name: str) -> None:
        _spin(app)
        path = out_dir / f"{name}_{tag}.png"
        widget.grab().save(str(path))
        saved.append(path)

    work = Path(tempfile.mkdtemp(prefix="chat-screens-"))
    pdf = make_pdf(
        work / "lease.pdf",
        [
            "The tenant shall give sixty days written notice before terminating the lease. " * 3,
            "Late payment costs two percent of the monthly rent per week, capped at ten percent. "
            * 4,
        ],
    )
    docx = make_docx(work / "合同.docx", "中国地理", ZH_PARAGRAPHS)

    with OllamaStandIn() as server:
        services = AppServices(Settings().replace(ollama_host=server.url))
        store = services.conversations
        titles = (
            ("租约问题", "合同审查", "患者随访记录")
            if zh
            else ("Lease questions", "Contract review", "Patient follow-up")
        )
        for old in store.list():  # one data folder serves every language and theme
            store.delete(old.id)
        for title in titles:
            store.rename(store.create().id, title)
        chat = ChatController(services)
        ollama = OllamaController(services)
        await asyncio.sleep(0.3)
        for _ in range(60):
            if ollama.state == "connected" and ollama.loaded:
                break
            await asyncio.sleep(0.1)

        panel = ChatPanel(chat)
        panel.resize(900, 1000)
        panel.show()
        for record in _messages(zh, str(pdf)):
            chat.model.append(record)
        _spin(app, 0.3)
        panel.scroll.verticalScrollBar().setValue(0)
        save(panel, "chat_answer")
        bar_ = panel.scroll.verticalScrollBar()
        bar_.setValue(bar_.maximum())
        save(panel, "chat_states")
        chat.model.clear()
        save(panel, "chat_empty")

        bar = ModelBar(ollama, chat)
        bar.resize(900, 44)
        bar.show()
        save(bar, "model_bar")

        sidebar = ConversationList(chat)
        sidebar.resize(280, 300)
        sidebar.show()
        save(sidebar, "conversation_list")

        dialog = PullDialog(ollama, "qwen2.5:7b")
        dialog.show()
        dialog._set_running(True)
        dialog.on_progress(
            PullProgress(
                "pulling 2bada8a74506", "sha256:2b", 1_834_000_000, 4_683_073_184, 48_200_000, 59.1
            )
        )
        save(dialog, "pull_dialog")
        dialog.close()

        viewer = SourceViewer(chat)
        viewer.resize(620, 800)
        viewer.show()
        citation = Citation(
            1,
            "c1",
            "d",
            str(pdf),
            "lease",
            2,
            0,
            40,
            "Late payment costs",
            [(56.0, 56.0, 540.0, 120.0)],
        )
        viewer.show_citation(citation)
        for _ in range(300):
            if viewer._rendered is not None:
                break
            await asyncio.sleep(0.05)
        save(viewer, "source_viewer_pdf")
        viewer.show_citation(
            Citation(2, "c2", "d2", str(docx), "合同", 1, 40, 80, ZH_PARAGRAPHS[1], [])
        )
        for _ in range(300):
            if viewer.stack.currentWidget() is viewer.text_view:
                break
            await asyncio.sleep(0.05)
        save(viewer, "source_viewer_docx")
        viewer.controller.close()
        await ollama.aclose()
        services.close()

    dead = AppServices(Settings().replace(ollama_host=f"http://127.0.0.1:{free_port()}"))
    down = OllamaController(dead)
    holder = ChatPanel(ChatController(dead))
    holder.add_banner(OllamaPanel(down))
    holder.resize(900, 600)
    holder.show()
    for _ in range(60):
        if down.state == "unreachable" and down.next_check_s:
            break
        await asyncio.sleep(0.1)
    save(holder, "ollama_missing")
    await down.aclose()
    dead.close()
    for widget in (panel, bar, sidebar, viewer, holder):
        widget.close()
    return saved


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "screens")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QWEN_DESK_HOME"] = tempfile.mkdtemp(prefix="qwen-desk-screens-")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from qwen_desk.ui.i18n import install_translators

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    saved: list[Path] = []
    with loop:
        for language in ("en", "zh_CN"):
            translators = install_translators(app, language)
            for scheme in ("light", "dark"):
                saved += loop.run_until_complete(render_all(out, language, scheme))
            for translator in translators or []:
                app.removeTranslator(translator)
    print("\n".join(str(p) for p in saved))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
