"""CLI layer: ``qwen-desk``, headless commands over the core (no Qt, no GUI).

Each command group lives in its own module and registers its sub-commands through
``register(subparsers)``. Exit codes: 0 success, 1 failure, 2 usage error, 3 Ollama unreachable,
4 model missing, 5 the knowledge base asked has no documents (``ask``). ``qwen_desk.__main__``
(the ``qwen-desk`` entry point) opens the desktop app when no command is given; this package
never imports Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qwen_desk import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_MODEL_MISSING = 4
EXIT_NO_DOCUMENTS = 5

# Modules that add sub-commands; each has ``register(subparsers) -> None``.
COMMAND_MODULES = (
    "qwen_desk.cli.knowledge",
    "qwen_desk.cli.chat",
    "qwen_desk.cli.doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qwen-desk",
        description="Private, offline chat with your documents. "
        "Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"qwen-desk {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
