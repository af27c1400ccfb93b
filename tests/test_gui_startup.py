"""Start-up: the window paints before any heavy back-end library is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

CHILD = r"""
import json, sys
from qwen_desk.app import build, heavy_modules_loaded
desk = build([])
out = {}
def painted():
    out["heavy_at_first_paint"] = heavy_modules_loaded()
    out["title"] = desk.window.windowTitle()
    desk.app.quit()
desk.window.sig_first_paint.connect(painted)
desk.app.exec()
desk.services.close()
print(json.dumps(out))
"""


def test_first_paint_imports_no_heavy_module(qwen_desk_home) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QWEN_DESK_HOME=str(qwen_desk_home))
    result = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["title"] == "Qwen Desk"
    assert report["heavy_at_first_paint"] == []
