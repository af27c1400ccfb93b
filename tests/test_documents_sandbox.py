"""The parser child process: real spawned processes, real timeouts, real crashes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pymupdf
import pytest

from qwen_desk.core.documents.sandbox import (
    TEST_HOOKS_ENV,
    ParserProcess,
    pack_document,
    parse_in_child,
    unpack_document,
)
from qwen_desk.core.errors import EmptyFile, ParserCrashed, ParseTimeout, WrongPassword


@pytest.fixture(scope="module")
def pdf_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdfs")
    plain = pymupdf.open()
    for n in range(3):
        plain.new_page().insert_text((72, 72), f"Page {n + 1} says hello.")
    plain.save(folder / "plain.pdf")
    locked = pymupdf.open()
    locked.new_page().insert_text((72, 72), "Locked text.")
    locked.save(folder / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw")
    (folder / "empty.pdf").write_bytes(b"")
    # Long enough that no machine parses it within the 1 ms granularity of the pipe's poll.
    big = pymupdf.open()
    for n in range(400):
        page = big.new_page()
        for line in range(40):
            page.insert_text((72, 60 + 18 * line), f"Page {n + 1}, line {line}: words to read.")
    big.save(folder / "big.pdf")
    return {p.stem: p for p in folder.iterdir()}


@pytest.fixture(scope="module")
def parser() -> Iterator[ParserProcess]:
    """One child for the module (tests that kill it get a fresh one on their next request)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TEST_HOOKS_ENV, "1")  # inherited by every child spawned meanwhile
        with ParserProcess(timeout_s=60) as process:
            yield process


def test_parse_in_a_reused_child_and_errors_keep_their_class(
    parser: ParserProcess, pdf_files: dict[str, Path]
) -> None:
    doc = parser.parse(pdf_files["plain"])
    assert doc.page_count == 3 and "Page 2 says hello." in doc.text
    pid = parser.pid
    assert pid is not None and pid != __import__("os").getpid()
    with pytest.raises(EmptyFile):
        parser.parse(pdf_files["empty"])
    with pytest.raises(WrongPassword):
        parser.parse(pdf_files["locked"], "wrong")
    assert parser.parse(pdf_files["locked"], "pw").text == "Locked text."
    assert parser.pid == pid  # errors do not cost a restart
    assert parser.request("ping", (), None) == pid


def test_timeout_kills_and_restarts_the_child(
    parser: ParserProcess, pdf_files: dict[str, Path]
) -> None:
    parser.parse(pdf_files["plain"])
    first = parser.pid
    started = time.perf_counter()
    with pytest.raises(ParseTimeout):
        parser.request("test_sleep", (60,), 0.5)
    assert time.perf_counter() - started < 30  # the timeout ended it, not the 60 s sleep
    assert parser.pid is None  # killed
    assert parser.parse(pdf_files["plain"]).page_count == 3
    assert parser.pid not in (None, first)


def test_progress_restarts_the_wait_and_silence_still_times_out(parser: ParserProcess) -> None:
    """The timeout bounds silence: 12 steps of 0.25 s outlast a 1.5 s timeout and still finish
    because each reports progress; a sleep of the same length without reports is stopped."""
    assert parser.request("test_progress", (12, 0.25), 1.5) == 12
    with pytest.raises(ParseTimeout):
        parser.request("test_sleep", (3.0,), 1.5)


def test_a_real_parse_reports_its_pages(tmp_path: Path) -> None:
    from qwen_desk.core.documents import parse_document

    pdf = pymupdf.open()
    for n in range(4):
        pdf.new_page().insert_text((72, 72), f"Page {n} text.", fontsize=11)
    pdf.save(tmp_path / "four.pdf")
    seen: list[int] = []
    parse_document(tmp_path / "four.pdf", on_page=seen.append)
    assert seen == [1, 2, 3, 4]


def test_a_cancelled_request_stops_the_child_and_the_next_one_works(
    parser: ParserProcess, pdf_files: dict[str, Path]
) -> None:
    from qwen_desk.core.errors import Cancelled

    parser.parse(pdf_files["plain"])
    asked = threading.Event()

    def should_cancel() -> bool:  # says so from its second question on: the child is working
        if asked.is_set():
            return True
        asked.set()
        return False

    with pytest.raises(Cancelled):
        parser.request("test_sleep", (60,), None, should_cancel)  # not the 60 s sleep
    assert parser.pid is None  # stopped
    assert parser.parse(pdf_files["plain"], should_cancel=lambda: False).page_count == 3


def test_a_tiny_timeout_on_a_real_parse_is_a_parse_timeout(
    parser: ParserProcess, pdf_files: dict[str, Path]
) -> None:
    parser.parse(pdf_files["plain"])
    with pytest.raises(ParseTimeout):
        parser.parse(pdf_files["big"], timeout_s=0.000001)
    assert parser.parse(pdf_files["plain"]).page_count == 3


def test_a_dying_child_is_reported_and_replaced(
    parser: ParserProcess, pdf_files: dict[str, Path]
) -> None:
    parser.parse(pdf_files["plain"])
    with pytest.raises(ParserCrashed, match="exit code 7"):
        parser.request("test_exit", (7,), None)
    assert parser.parse(pdf_files["plain"]).page_count == 3


def test_hooks_are_off_without_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, pdf_files: dict[str, Path]
) -> None:
    monkeypatch.delenv(TEST_HOOKS_ENV, raising=False)
    with ParserProcess() as process:
        with pytest.raises(Exception, match="Unknown parser request"):
            process.request("test_exit", (3,), None)
        assert process.parse(pdf_files["plain"]).page_count == 3


def test_render_page_and_thread_safety(parser: ParserProcess, pdf_files: dict[str, Path]) -> None:
    png, width, height = parser.render_page(pdf_files["plain"], 2, zoom=1.0)
    assert png.startswith(b"\x89PNG") and (width, height) == (595.0, 842.0)
    results: list[int] = []

    def work() -> None:
        results.append(parser.parse(pdf_files["plain"]).page_count)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [3, 3, 3, 3]


def test_wire_format_round_trips(tmp_path: Path) -> None:
    from qwen_desk.core.documents import parse_document

    pdf = pymupdf.open()
    page = pdf.new_page()
    page.insert_text((72, 72), "Big Title", fontsize=24)
    page.insert_text((72, 120), "Body line one.\nBody line two.", fontsize=10)
    pdf.save(tmp_path / "doc.pdf")
    doc = parse_document(tmp_path / "doc.pdf")
    assert doc.blocks[0].kind.value == "heading" and doc.blocks[1].lines
    assert unpack_document(pack_document(doc)) == doc


def test_parse_in_child_one_shot(pdf_files: dict[str, Path]) -> None:
    assert parse_in_child(pdf_files["plain"]).blocks[0].text == "Page 1 says hello."
