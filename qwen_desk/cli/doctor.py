"""CLI layer: ``qwen-desk doctor [--json] [--no-embedder]``, the environment check.

Prints one line per check (``ok``, ``warn``, ``FAIL``) with a fix under anything not ok; with
``--json`` one object ``{"ok": bool, "checks": [{"name", "status", "summary", "fix",
"details"}]}``. Exit 0 when no check failed, 1 otherwise. The host comes from the settings;
``OLLAMA_HOST`` overrides it.
"""

from __future__ import annotations

import argparse
import asyncio

from qwen_desk.cli import EXIT_FAILED, EXIT_OK
from qwen_desk.cli._common import load_settings, print_json
from qwen_desk.core.settings import Settings

_LABEL = {"ok": " ok ", "warn": "warn", "fail": "FAIL"}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    doctor = subparsers.add_parser("doctor", help="check Ollama, the model, GPU, disk, embedder")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.add_argument(
        "--no-embedder",
        action="store_true",
        help="skip loading the embedding model (and the knowledge base check)",
    )
    doctor.set_defaults(handler=cmd_doctor)


async def _run(settings: Settings, with_embedder: bool) -> list:  # type: ignore[type-arg]
    from qwen_desk.core.doctor import run_checks
    from qwen_desk.core.llm import make_backend

    backend = make_backend(settings)
    try:
        return await run_checks(settings, backend, with_embedder=with_embedder)
    finally:
        await backend.aclose()


def cmd_doctor(args: argparse.Namespace) -> int:
    from qwen_desk.core.doctor import all_passed

    settings = load_settings()
    checks = asyncio.run(_run(settings, not args.no_embedder))
    passed = all_passed(checks)
    if args.json:
        print_json({"ok": passed, "checks": [c.to_json() for c in checks]})
    else:
        for check in checks:
            print(f"[{_LABEL[check.status.value]}] {check.name:13} {check.summary}")
            if check.fix:
                print(f"{'':21}fix: {check.fix}")
        print("all checks passed" if passed else "some checks failed")
    return EXIT_OK if passed else EXIT_FAILED
