"""The foundation: error codes, paths under QWEN_DESK_HOME, settings round trip, import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_desk.core import errors, paths
from qwen_desk.core.settings import Settings


def test_error_codes_are_unique_and_survive_pickling() -> None:
    import pickle

    codes = [cls.code for cls in errors.all_error_classes()]
    assert len(codes) == len(set(codes)), codes
    exc = errors.WrongPassword("bad password for a.pdf", path="a.pdf")
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is errors.WrongPassword
    assert clone.to_dict() == {"code": "wrong_password", "message": "bad password for a.pdf"}
    assert clone.details == {"path": "a.pdf"}
    assert errors.error_for_code("model_not_found") is errors.ModelNotFound


def test_paths_follow_qwen_desk_home(qwen_desk_home: Path) -> None:
    assert paths.data_dir() == qwen_desk_home / "data"
    assert paths.settings_file() == qwen_desk_home / "config" / "settings.toml"
    assert paths.knowledge_base_dir().is_relative_to(qwen_desk_home)
    # QWEN_DESK_HOME wins over the data_dir setting
    assert paths.data_dir("/somewhere/else") == qwen_desk_home / "data"


def test_data_dir_setting_used_without_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("QWEN_DESK_HOME")
    assert paths.data_dir(tmp_path / "kb") == (tmp_path / "kb").resolve()
    assert "QwenDesk" in str(paths.default_data_dir())


def test_settings_round_trip_and_bad_values() -> None:
    s = Settings().replace(model="qwen2.5:14b", temperature=0.3, ui_language="zh_CN")
    path = s.save()
    loaded = Settings.load()
    assert loaded == s and path.exists()
    path.write_text('temperature = "hot"\nnum_ctx = 4096\nunknown = 1\n', encoding="utf-8")
    loaded = Settings.load()
    assert loaded.num_ctx == 4096
    assert loaded.temperature == 0.7
    assert loaded.reset_keys == ["temperature"]
    path.write_text("this is [not toml", encoding="utf-8")
    assert Settings.load() == Settings()


def test_settings_validation_rejects_max_tokens_over_context() -> None:
    with pytest.raises(errors.SettingsError):
        Settings().replace(max_tokens=9000, num_ctx=8192)


def test_settings_strings_are_escaped() -> None:
    s = Settings().replace(openai_api_key='quo"te\\back\nline')
    s.save()
    assert Settings.load().openai_api_key == 'quo"te\\back\nline'


@pytest.mark.parametrize("module", ["qwen_desk.core", "qwen_desk.cli"])
def test_core_and_cli_import_no_qt_and_no_torch(module: str) -> None:
    """Start-up time depends on it: the GUI paints before any heavy import."""
    heavy = ["PySide6", "torch", "sentence_transformers", "lancedb", "fitz", "pymupdf", "docx"]
    code = (
        f"import importlib, json, sys; importlib.import_module({module!r});"
        + "import qwen_desk.cli as c; c.build_parser();"
        + f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_import_contracts_hold() -> None:
    """import-linter's contracts from pyproject.toml (layers, no Qt in core)."""
    root = Path(__file__).resolve().parent.parent
    lint = Path(sys.executable).with_name("lint-imports")
    # A dev dependency of this project, not an external tool: absent is a failure, not a skip.
    assert lint.exists(), "import-linter is not installed (pip install -e '.[dev]')"
    out = subprocess.run([str(lint)], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
