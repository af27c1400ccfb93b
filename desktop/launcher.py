"""Frozen-build entry point: the script PyInstaller turns into the ``qwen-desk`` executable.

Not imported by the package. Its job, in order:

1. ``multiprocessing.freeze_support()`` first: the document parser runs in a *spawn* child, which
   re-executes this very binary with multiprocessing's arguments; the child must stop here and
   run the parser, never start a second app.
2. Make the process offline and telemetry-free before any library is imported (libraries read
   these variables at import time).
3. Point the embedding model at the folder bundled next to the executable (written by
   ``packaging/build.py`` into ``qwen_desk_bundle.json``) so first use needs no download.
4. Hand over to ``qwen_desk.__main__.main`` (CLI with a command, desktop app otherwise).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from pathlib import Path

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


def main() -> int:
    multiprocessing.freeze_support()
    configure_environment()
    from qwen_desk.__main__ import main as qwen_desk_main

    return int(qwen_desk_main(sys.argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
