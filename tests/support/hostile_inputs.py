"""Test helper: the generators of ``bench/input_memory.py`` (one definition of each input)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent.parent / "bench" / "input_memory.py"


def inputs() -> ModuleType:
    """``bench/input_memory.py`` as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("qwen_desk_bench_input_memory", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
