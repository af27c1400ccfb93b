"""The ``qwen-desk`` entry point: the CLI when given a command, otherwise the desktop app.

Kept outside both layers so that ``qwen_desk.cli`` never imports Qt and ``qwen_desk.app`` never
imports the CLI.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

APP_FLAGS = ("--self-test", "--report", "--open")


def wants_gui(argv: Sequence[str]) -> bool:
    """No arguments, or only the app's own flags (and files to open) -> the desktop app."""
    if not argv:
        return True
    first = argv[0]
    return first.startswith(APP_FLAGS) or (not first.startswith("-") and "." in first)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_gui(args):
        from qwen_desk.app import main as app_main

        return int(app_main(args) or 0)
    from qwen_desk.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
