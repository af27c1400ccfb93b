"""A process that ingests files and waits for its queue to drain; tests SIGKILL it mid-way.

Usage: ``python tests/support/ingest_child.py COLLECTION [PATH...]`` with ``QWEN_DESK_HOME`` set.
With paths it queues them first; without, it only resumes the persisted queue. It prints
``started`` once the worker runs and ``idle`` when the queue is empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from qwen_desk.core.knowledge import KnowledgeBase
from qwen_desk.core.settings import Settings


def main(argv: list[str]) -> int:
    collection, items = argv[0], argv[1:]
    kb = KnowledgeBase(Settings())
    kb.embedder.load()
    if items:
        kb.ingest.add_paths(items, collection)
    kb.ingest.start()
    print("started", flush=True)
    kb.ingest.wait_idle()
    print("idle", flush=True)
    kb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
