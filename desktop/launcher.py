"""Frozen-build entry point: the script PyInstaller turns into the ``qwen-desk`` executable.

Not imported by the package. Its job, in order:

1. ``multiprocessing.freeze_support()`` first: the document parser runs in a *spawn* child, which
   re-executes this very binary with multiprocessing's arguments; the child must stop here and
   run the parser, never start a second app.
2. Make the process offline and telemetry-free before any library is imported (libraries read
   these variables at import time).
3. Point the embedding model at the folder bundled next to the executable (written by
   ``packaging/build.py`` into ``qwen_desk_bundle.json``) so first use needs no download.
4. Hand over: ``--self-test`` goes straight to ``qwen_desk.selftest.run`` (no window needed),
   everything else to ``qwen_desk.__main__.main`` (CLI with a command, desktop app otherwise).
   ``QWEN_DESK_EXIT_AFTER_PAINT=1`` makes the app print ``first-paint <seconds>`` and exit when
   its first window paints (the smoke test's start-up timing).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()

# Variables that keep every library we ship off the network. ``setdefault``: a user who knows
# what they do may still override them from the shell.
OFFLINE_ENV = {
    # Hugging Face hub / transformers / sentence-transformers: no downloads, no telemetry,
    # no update checks, no implicit token lookup.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",  # https://donottrack.sh: honoured by huggingface_hub and others
    # transformers' optional integrations (never used by us, silenced in case one is present)
    "WANDB_DISABLED": "true",
    "WANDB_MODE": "disabled",
    "COMET_MODE": "disabled",
    # pyarrow/lance object stores: never probe cloud instance metadata endpoints
    "AWS_EC2_METADATA_DISABLED": "true",
    # tokenizers: no fork warning; parallelism is ours to decide
    "TOKENIZERS_PARALLELISM": "false",
}

BUNDLE_MANIFEST = "qwen_desk_bundle.json"
EMBED_MODEL_ENV = "QWEN_DESK_EMBED_MODEL"


def bundle_dir() -> Path:
    """Where the bundled data lives: PyInstaller's ``_MEIPASS``, else next to this file."""
    return Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent))


def read_manifest(root: Path) -> dict[str, object]:
    """The build's manifest (embedding model folder, version, build time); {} when absent."""
    try:
        data = json.loads((root / BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def configure_environment(env: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Offline and telemetry switches, plus the bundled embedding model folder."""
    for key, value in OFFLINE_ENV.items():
        env.setdefault(key, value)
    root = bundle_dir()
    manifest = read_manifest(root)
    model = manifest.get("embed_model")
    if isinstance(model, str) and model and (root / model).is_dir():
        model_dir = str(root / model)
        env.setdefault(EMBED_MODEL_ENV, model_dir)
        # Anything that asks sentence-transformers for a model by name looks in the bundle,
        # and the Hugging Face cache is never the user's (possibly stale) global one.
        env.setdefault("SENTENCE_TRANSFORMERS_HOME", str(Path(model_dir).parent))


def exit_after_first_paint() -> None:
    """``QWEN_DESK_EXIT_AFTER_PAINT=1``: print ``first-paint <s>`` and exit once a window paints.

    Used by ``packaging/smoke_test.py`` to time a cold start of the installed binary to its
    first painted window. Wraps ``QApplication.exec`` (qasync's loop calls it too) so that an
    application-wide event filter is in place before the event loop starts.
    """
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (
                event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and watched.isWindow()
            ):
                print(f"first-paint {time.perf_counter() - STARTED:.3f}", flush=True)
                os._exit(0)
            return False

    original_exec = QApplication.exec  # a static method in PySide6
    probe = FirstPaint()

    def exec_with_probe(*_args: object) -> int:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(probe)
        return original_exec()

    QApplication.exec = staticmethod(exec_with_probe)  # type: ignore[method-assign,assignment]


def main() -> int:
    multiprocessing.freeze_support()
    configure_environment()
    args = sys.argv[1:]
    if "--self-test" in args:
        # The self-test needs no window: run it directly (also when the GUI delegates to it).
        from qwen_desk.selftest import run

        return run(args)
    if os.environ.get("QWEN_DESK_EXIT_AFTER_PAINT") == "1":
        exit_after_first_paint()
    from qwen_desk.__main__ import main as qwen_desk_main

    return int(qwen_desk_main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
