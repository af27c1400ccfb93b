"""Translations: the zh_CN catalogue is complete, compiles at run time, and shows in widgets."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QApplication

from qwen_desk.core import paths
from qwen_desk.ui import i18n
from qwen_desk.ui.empty_state import EmptyState
from qwen_desk.ui.messages import message_for

pytestmark = pytest.mark.gui


def test_ts_is_complete() -> None:
    ts = i18n.ts_file("zh_CN")
    root = ET.parse(ts).getroot()
    messages = list(root.iter("message"))
    assert len(messages) > 200
    unfinished = [
        m.findtext("source")
        for m in messages
        if (m.find("translation") is None)
        or m.find("translation").get("type") in ("unfinished", "obsolete", "vanished")
        or not (m.findtext("translation") or "").strip()
    ]
    assert unfinished == []
    # placeholders survive translation
    for m in messages:
        source, translation = m.findtext("source") or "", m.findtext("translation") or ""
        for marker in ("%1", "%2"):
            assert (marker in source) == (marker in translation), source


def test_qm_is_built_into_the_cache_and_rebuilt_when_stale() -> None:
    qm = i18n.compiled_qm("zh_CN")
    assert qm is not None and qm.is_file()
    if qm.parent == i18n.ts_file("zh_CN").parent:
        pytest.skip("a packaged .qm is present next to the .ts")
    assert qm.parent == paths.cache_dir() / "translations"
    first = qm.stat().st_mtime_ns
    assert i18n.compiled_qm("zh_CN") == qm and qm.stat().st_mtime_ns == first  # not rebuilt


def test_chinese_shows_in_widgets(qtbot) -> None:
    app = QApplication.instance()
    assert app is not None
    installed = i18n.install_translators(app, "zh_CN")
    try:
        assert len(installed) == 2  # Qt's qtbase_zh_CN and ours
        widget = EmptyState()
        qtbot.addWidget(widget)
        assert widget.hint.text() == "将 PDF、Word、Markdown 或文本文件拖放到这里"
        assert widget.add_files_button.text() == "添加文件…"
        assert message_for("password_required") == "文件受密码保护。"
        # Qt's own strings come from qtbase_zh_CN
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    finally:
        for translator in installed:
            app.removeTranslator(translator)
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    english = EmptyState()
    qtbot.addWidget(english)
    assert english.hint.text() == "Drop PDF, Word, Markdown or text files here"


def test_language_follows_the_setting_or_the_system() -> None:
    assert i18n.resolve_language("zh_CN") == "zh_CN"
    assert i18n.resolve_language("en") == "en"
    assert i18n.resolve_language("") in ("en", "zh_CN")
