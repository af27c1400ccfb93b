"""Core layer: retrying LanceDB commits that lost a race with another writer.

Every store write runs under the knowledge base's process write lock, so two Qwen Desk processes
never commit at once; a conflict can still come from a writer that does not take it (an older
version of the app, a tool). LanceDB 0.40 reports one as a bare ``RuntimeError`` whose message
says ``Retryable commit conflict`` (or that the commit ran out of its own retries); only those are
retried, with a growing, jittered pause, after ``refresh`` moved the table handles to the latest
version. Anything else is raised at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 8
FIRST_PAUSE_S = 0.05
MAX_PAUSE_S = 2.0


def is_retryable_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a Lance commit conflict that succeeds when simply tried again."""
    if not isinstance(exc, (RuntimeError, OSError)):
        return False
    text = str(exc).lower()
    return "retryable commit conflict" in text or ("commit conflict" in text and "retries" in text)


def retry_conflicts(
    write: Callable[[], T],
    refresh: Callable[[], None] | None = None,
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``write``; on a retryable conflict pause, ``refresh`` and run it again."""
    pause = FIRST_PAUSE_S
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except Exception as exc:
            if attempt == attempts or not is_retryable_conflict(exc):
                raise
            log.info("commit conflict (attempt %d of %d), retrying: %s", attempt, attempts, exc)
        sleep(pause * (0.5 + random.random()))
        pause = min(MAX_PAUSE_S, pause * 2)
        if refresh is not None:
            refresh()
    raise AssertionError("unreachable")
