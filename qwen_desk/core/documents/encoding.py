"""Core layer: decode the bytes of a text file, or refuse binary and undecodable data.

Order: byte-order marks (UTF-32, UTF-8, UTF-16), BOM-less UTF-16 (NUL bytes on one side),
binary refusal (NUL bytes, control characters), strict UTF-8, then charset-normalizer limited to
sensible candidates. GB18030 and Big5 both accept most of each other's byte pairs, so a CJK
guess is settled by a byte statistic: Big5 puts about half of its characters' second byte in
0x40-0x7E, GB2312/GBK text (almost) never does.
"""

from __future__ import annotations

import codecs
import re

from qwen_desk.core.errors import BinaryContent, EmptyFile, UnknownEncoding

SAMPLE_BYTES = 256 * 1024
CONTROL_RATIO_MAX = 0.02
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# What charset-normalizer may choose from: CJK first, then the common single-byte families.
CANDIDATES = [
    "gb18030",
    "big5",
    "shift_jis",
    "euc_jp",
    "euc_kr",
    "cp1252",  # Western European; cp1250/cp1254/latin-9 look too alike to be told apart
    "cp1251",
    "koi8_r",
    "cp1253",
    "cp1255",
    "cp1256",
]
CHINESE = {"gb18030", "gbk", "gb2312", "big5", "cp950", "big5hkscs", "hz"}
_DOUBLE_BYTE = re.compile(rb"[\x81-\xfe][\x30-\xfe]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def decode_bytes(data: bytes, name: str = "file") -> tuple[str, str]:
    """Return (text with "\\n" line ends, encoding name) or raise a DocumentError."""
    if not data:
        raise EmptyFile(f"{name} is empty (0 bytes)")
    text, encoding = _decode(data, name)
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:SAMPLE_BYTES]
    if sample and len(_CONTROL.findall(sample)) / len(sample) > CONTROL_RATIO_MAX:
        raise BinaryContent(f"{name} holds binary data, not text")
    return text, encoding


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom) :], encoding, name), encoding.replace("-sig", "")
    utf16 = _bomless_utf16(data)
    if utf16:
        return _strict(data, utf16, name), utf16
    if b"\x00" in data[:SAMPLE_BYTES]:
        raise BinaryContent(f"{name} holds binary data (NUL bytes), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = _guess(data)
    if encoding is None:
        raise UnknownEncoding(f"The text encoding of {name} could not be detected")
    return _strict(data, encoding, name), encoding


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnknownEncoding(
            f"{name} is not valid {encoding} (byte {exc.start}); save it as UTF-8"
        ) from exc


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: mostly-ASCII text has NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.3 and zeros_even < 0.02:
        return "utf-16-le"
    if zeros_even > 0.3 and zeros_odd < 0.02:
        return "utf-16-be"
    return None


def _guess(data: bytes) -> str | None:
    sample = _sample(data)
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=CANDIDATES).best()
    found = best.encoding if best is not None else None
    if found is None or found in CHINESE:
        chinese = _chinese_double_byte(sample)
        for encoding in (chinese, "gb18030" if chinese == "big5" else "big5"):
            if encoding and _decodes(data, encoding):
                return encoding
    if found and _decodes(data, found):
        return found
    return None


def _sample(data: bytes) -> bytes:
    """The head of the data, cut after a newline so no multi-byte character is split."""
    if len(data) <= SAMPLE_BYTES:
        return data
    head = data[:SAMPLE_BYTES]
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut > 0 else head


def _chinese_double_byte(sample: bytes) -> str | None:
    """ "big5" or "gb18030" from the share of second bytes in 0x40-0x7E; None: not CJK-like."""
    pairs = _DOUBLE_BYTE.findall(sample)
    if len(pairs) < 4:
        return None
    low_trail = sum(1 for pair in pairs if 0x40 <= pair[1] <= 0x7E)
    return "big5" if low_trail / len(pairs) > 0.15 else "gb18030"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True
