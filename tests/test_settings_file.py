"""The settings file: every value round-trips, and a file that cannot be used loses nothing.

Real files in the test's own ``QWEN_DESK_HOME``: values written by ``Settings.save`` (tomli-w)
come back equal for arbitrary strings (hypothesis); a file that does not parse, has bad values,
is binary or cannot be read is kept aside untouched, its good values are kept, and the problems
name the keys that were reset; the next load is quiet.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwen_desk.cli._common import load_settings
from qwen_desk.core import paths
from qwen_desk.core.errors import SettingsError
from qwen_desk.core.settings import (
    FILE_DAMAGED,
    FILE_UNREADABLE,
    INVALID_VALUE,
    KEPT_ASIDE,
    NOT_KEPT_ASIDE,
    WRONG_TYPE,
    Settings,
    describe_problems,
)

FREE_TEXT = (
    "ollama_host",
    "openai_base_url",
    "openai_api_key",
    "keep_alive",
    "embed_model_path",
    "data_dir",
)
NASTY = "\r\x00\t\n\x1b\x7f\"'\\ \u2028\ufeff 中文 🙂"


def text() -> st.SearchStrategy[str]:
    """Arbitrary text (control characters and NUL included), salted with the nasty ones."""
    return st.one_of(st.text(), st.text(alphabet=st.sampled_from(NASTY)), st.just(NASTY))


def fraction(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False)


valid_settings = st.builds(
    Settings,
    backend=st.sampled_from(["ollama", "openai"]),
    model=text().filter(lambda s: s.strip() != ""),
    temperature=fraction(0.0, 2.0),
    top_p=fraction(0.0, 1.0).filter(lambda v: v > 0),
    top_k=st.integers(0, 1000),
    repeat_penalty=fraction(0.5, 2.0),
    max_tokens=st.integers(16, 511),
    num_ctx=st.integers(512, 131072),
    request_timeout_s=st.floats(min_value=1e-6, allow_nan=False),
    sources_top_k=st.integers(1, 50),
    relevance_threshold=st.floats(allow_nan=False, allow_infinity=False),
    embed_threads=st.integers(-(2**63), 2**63 - 1),
    ui_language=st.sampled_from(["", "en", "zh_CN"]),
    theme=st.sampled_from(["light", "dark", "system"]),
    **{name: text() for name in FREE_TEXT},
)


@settings(
    max_examples=300,
    deadline=None,  # a loaded 2-core machine: no time limit per example
    # the autouse QWEN_DESK_HOME fixture is shared by the examples: each overwrites the file
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(valid_settings)
def test_every_value_round_trips(qwen_desk_home: Path, value: Settings) -> None:
    path = value.save()
    loaded = Settings.load()
    assert loaded == value
    assert loaded.problems == []
    assert path.exists() and list(path.parent.glob("*.broken-*")) == []


def test_a_value_toml_cannot_hold_is_refused_and_nothing_is_written() -> None:
    good = Settings().replace(openai_api_key="sk-1")
    path = good.save()
    before = path.read_bytes()
    with pytest.raises(SettingsError) as refused:
        good.replace(openai_api_key="sk-\ud800")  # a lone surrogate: not UTF-8 encodable
    assert refused.value.details["key"] == "openai_api_key"
    assert refused.value.message.startswith("openai_api_key ")
    bad = dataclasses.replace(good, data_dir="/tmp/\udcff")  # e.g. a surrogate-escaped path
    with pytest.raises(SettingsError, match="data_dir"):
        bad.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left


def write(content: bytes) -> Path:
    path = paths.settings_file()
    paths.ensure(path.parent)
    path.write_bytes(content)
    return path


def kept_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".broken-*"))


def test_bad_values_reset_one_by_one_and_the_good_ones_are_kept() -> None:
    original = (
        b'model = "qwen2.5:14b"\n'
        b'temperature = "hot"\n'  # wrong type
        b"top_p = 7.5\n"  # out of range
        b"num_ctx = 600\n"  # valid alone, but the default max_tokens (1024) does not fit
        b'theme = "dark"\n'
        b"unknown = 1\n"
    )
    path = write(original)
    loaded = Settings.load()
    assert (loaded.model, loaded.theme) == ("qwen2.5:14b", "dark")
    assert (loaded.temperature, loaded.top_p, loaded.num_ctx) == (0.7, 0.8, 8192)
    assert {(p.code, p.key) for p in loaded.problems if p.key} == {
        (WRONG_TYPE, "temperature"),
        (INVALID_VALUE, "top_p"),
        (INVALID_VALUE, "num_ctx"),
    }
    assert sorted(loaded.reset_keys) == ["num_ctx", "temperature", "top_p"]
    assert not loaded.all_reset
    (kept,) = kept_files(path)
    assert loaded.kept_aside == kept and kept.read_bytes() == original
    again = Settings.load()  # the repaired file was saved: the next start is quiet
    assert again == loaded and again.problems == []
    assert kept_files(path) == [kept]


def test_a_file_from_the_old_writer_with_raw_control_characters_is_salvaged() -> None:
    # The writer before tomli-w escaped only \\, ", \n and \t: a \r or NUL broke the whole file.
    original = (
        b"# Qwen Desk settings. Edit while the app is closed.\n\n"
        b'openai_api_key = "sk-\r\x00key"\n'
        b'model = "qwen2.5:14b"\n'
        b'data_dir = "C:\\\\Users\\\\me\\tdocs"\n'
        b"num_ctx = 4096\n"
    )
    path = write(original)
    loaded = Settings.load()
    assert loaded.openai_api_key == "sk-\r\x00key"
    assert (loaded.model, loaded.data_dir, loaded.num_ctx) == (
        "qwen2.5:14b",
        "C:\\Users\\me\tdocs",
        4096,
    )
    assert [p.code for p in loaded.problems] == [FILE_DAMAGED, KEPT_ASIDE]
    assert loaded.reset_keys == []
    (kept,) = kept_files(path)
    assert kept.read_bytes() == original
    assert Settings.load() == loaded  # now written by tomli-w: it parses
    assert Settings.load().problems == []


def test_a_file_that_does_not_parse_keeps_the_lines_that_do() -> None:
    original = (
        b'model = "qwen2.5:14b"\n'
        b"temperature = [not toml\n"
        b"top_k = \xff\xfe\n"  # not UTF-8
        b"[[[ garbage\n"
        b'theme = "dark"\n'
    )
    path = write(original)
    loaded = Settings.load()
    assert (loaded.model, loaded.theme) == ("qwen2.5:14b", "dark")
    assert loaded.reset_keys == ["temperature", "top_k"]
    assert loaded.problems[0].code == FILE_DAMAGED
    assert kept_files(path)[0].read_bytes() == original
    line = describe_problems(loaded)
    assert "temperature, top_k" in line and str(kept_files(path)[0]) in line


@pytest.mark.parametrize(
    "content",
    [bytes(range(256)) * 4, b"this is [not toml", b"\x00" * 64],
    ids=["binary", "one-bad-line", "nul-bytes"],
)
def test_nothing_readable_resets_all_and_says_so(content: bytes) -> None:
    path = write(content)
    loaded = Settings.load()
    assert loaded == Settings()
    assert loaded.all_reset and loaded.problems[0].code == FILE_UNREADABLE
    assert kept_files(path)[0].read_bytes() == content
    assert "all settings were reset" in describe_problems(loaded)


def test_a_settings_path_that_cannot_be_read_is_kept_aside() -> None:
    path = paths.settings_file()
    (path / "inside").mkdir(parents=True)  # a folder where the file should be: IsADirectoryError
    loaded = Settings.load()
    assert loaded == Settings() and loaded.all_reset
    (kept,) = kept_files(path)
    assert (kept / "inside").is_dir()
    assert path.is_file() and Settings.load().problems == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_kept_aside() -> None:
    path = write(b'model = "qwen2.5:14b"\n')
    path.chmod(0)
    loaded = Settings.load()
    assert loaded.all_reset and loaded.kept_aside is not None


def test_a_kept_file_is_never_overwritten() -> None:
    first = write(b"temperature = [broken one\n")
    Settings.load()
    write(b"temperature = [broken two\n")
    Settings.load()  # the same second: the kept name gets a suffix
    kept = kept_files(first)
    assert sorted(k.read_bytes() for k in kept) == [
        b"temperature = [broken one\n",
        b"temperature = [broken two\n",
    ]


def test_a_file_that_cannot_be_moved_aside_is_left_as_it_is(qwen_desk_home: Path) -> None:
    path = write(b"temperature = [broken\n")
    folder = path.parent
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("needs a folder the test cannot write to (root can write anywhere)")
    folder.chmod(0o500)
    try:
        loaded = Settings.load()
    finally:
        folder.chmod(0o700)
    assert NOT_KEPT_ASIDE in [p.code for p in loaded.problems]
    assert path.read_bytes() == b"temperature = [broken\n"


def test_the_cli_says_it_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    write(b'model = "qwen2.5:14b"\ntop_k = "many"\n')
    settings = load_settings()
    assert settings.model == "qwen2.5:14b"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "top_k" in err[0] and ".broken-" in err[0]
    load_settings()
    assert capsys.readouterr().err == ""  # repaired: quiet the next time
