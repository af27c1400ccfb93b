"""Core layer: the word splitter behind full-text search, for English and Chinese alike.

LanceDB's tokenizers either ignore Chinese (``simple``) or cut English into noisy n-grams
(``ngram``), and ``jieba`` needs a download. So the store indexes a ``search_text`` column made
here: text is NFKC-normalised (full-width letters and digits become ASCII) and case-folded;
Latin, Cyrillic, Greek... words and digit runs become one token each (English plurals are folded
with the light S-stemmer of Harman 1991); runs of CJK characters (Han, kana, hangul) become
overlapping character bigrams, a lone character becomes a unigram. Tokens are joined by spaces and
indexed with the ``whitespace`` tokenizer; queries go through the same function, so both sides
agree. ``bench/retrieval_quality.py --variants`` chose this: full-text recall@5 0.992 on
CMRC2018 and 0.99 on HotpotQA (no stemming: 0.992 / 0.98; adding CJK unigrams: 0.994 on CMRC
but noisier BM25 scores and a worse hybrid).

Traditional and Simplified Chinese meet in the index: before the split, Han text is converted
to Simplified with OpenCC (``t2s``, phrase-aware; Simplified text passes through unchanged), on
both sides, so a Simplified question finds a Traditional document and the reverse. Only the
tokens change: the stored chunk text the user sees (citations, highlights) is left as written.
Changing what ``tokens`` returns changes every stored ``search_text``: add a schema migration that
calls ``schema.rebuild_search_text`` (as migration 2 did for this). ``bench/script_variants.py``
measures it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\W_])+)")
MAX_TOKEN_CHARS = 40
_HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# OpenCC config: Traditional (any variant's characters and phrases) to Simplified.
SCRIPT_CONFIG = "t2s"
_converter: Any = None
_converter_lock = threading.Lock()


def _t2s() -> Any:
    """The shared OpenCC converter, made on first use (its dictionaries load in about 10 ms)."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC(SCRIPT_CONFIG)
    return _converter


def fold_script(text: str) -> str:
    """``text`` with Traditional Chinese written as Simplified (text without Han: unchanged)."""
    if not _HAN_RE.search(text):
        return text
    return str(_t2s().convert(text))


def _s_stem(word: str) -> str:
    """Harman's S-stemmer: fold English plurals without touching other words much."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def folding_changes(text: str) -> bool:
    """Whether ``fold_script`` changes ``text``'s tokens (it holds Traditional characters)."""
    normalised = unicodedata.normalize("NFKC", text)
    return _HAN_RE.search(normalised) is not None and fold_script(normalised) != normalised


def tokens(text: str, *, stem: bool = True, fold: bool = True) -> list[str]:
    """The search tokens of ``text``: words, digit runs and CJK bigrams, in order
    (``fold=False``: Traditional characters kept, as before schema 2; benchmarks and tests)."""
    out: list[str] = []
    normalised = unicodedata.normalize("NFKC", text).casefold()
    if fold:
        normalised = fold_script(normalised)
    for match in _TOKEN_RE.finditer(normalised):
        run = match.group("cjk")
        if run is not None:
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
            continue
        word = match.group("word")
        if len(word) > MAX_TOKEN_CHARS:
            continue
        out.append(_s_stem(word) if stem else word)
    return out


def cjk_fraction(text: str) -> float:
    """Share of CJK characters among the letters of ``text`` (0.0 when it has none)."""
    cjk = sum(len(m.group("cjk") or "") for m in _TOKEN_RE.finditer(text))
    letters = sum(len(m.group(0)) for m in _TOKEN_RE.finditer(text))
    return cjk / letters if letters else 0.0


def search_text(text: str) -> str:
    """``text`` as the space-joined tokens stored in the ``search_text`` column."""
    return " ".join(tokens(text))


def query_text(query: str) -> str:
    """A user's query as the tokens the full-text index understands (duplicates removed)."""
    return " ".join(dict.fromkeys(tokens(query)))
