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
    log_file = _log_to_file()
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # never a raw traceback: one line (or a JSON object), the log
        return report_unexpected(exc, bool(getattr(args, "json", False)), log_file)


def _log_to_file() -> str:
    """Warnings and errors (with their tracebacks) go to ``cli.log`` in the log folder, never
    to the terminal; the file is created only when something is logged. Returns its path."""
    import logging

    from qwen_desk.core import paths

    root = logging.getLogger()
    try:
        log_file = str(paths.ensure(paths.log_dir()) / "cli.log")
    except OSError:  # no log folder (a read-only or full disk): keep quiet rather than fail
        log_file = ""
    for old in [h for h in root.handlers if getattr(h, "qwen_desk_cli", False)]:
        if getattr(old, "baseFilename", "") == log_file:
            return log_file
        root.removeHandler(old)  # main() called again with another QWEN_DESK_HOME (tests)
        old.close()
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8", delay=True)
        if log_file
        else logging.NullHandler()
    )
    handler.qwen_desk_cli = True  # type: ignore[attr-defined]
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return log_file or "(no log file)"


def report_unexpected(exc: BaseException, as_json: bool, log_file: str) -> int:
    """Print an error the command did not handle as one line on stderr (with ``--json`` also as
    a JSON object on stdout), with its traceback in the log only; return the exit code."""
    import json
    import logging

    from qwen_desk.core import paths
    from qwen_desk.core.errors import DiskFull, QwenDeskError, is_disk_full

    log = logging.getLogger("qwen_desk.cli")
    if isinstance(exc, QwenDeskError):
        error: QwenDeskError = exc
    elif is_disk_full(exc, paths.default_data_dir()):
        log.error("disk full", exc_info=exc)
        error = DiskFull(f"The disk is full: Qwen Desk cannot write its data ({exc})")
    else:
        log.error("unexpected error", exc_info=exc)
        error = QwenDeskError(
            f"Unexpected error: {type(exc).__name__}: {exc} (details in {log_file})"
        )
    if as_json:
        print(json.dumps({"error": error.to_dict()}, ensure_ascii=False), flush=True)
    print(f"error: {error.code}: {error.message}", file=sys.stderr, flush=True)
    from qwen_desk.cli._common import exit_code

    return exit_code(error)


if __name__ == "__main__":
    sys.exit(main())
