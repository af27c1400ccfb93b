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
"""

from __future__ import annotations

import re
import unicodedata

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


def tokens(text: str, *, stem: bool = True) -> list[str]:
    """The search tokens of ``text``: words, digit runs and CJK bigrams, in order."""
    out: list[str] = []
    normalised = unicodedata.normalize("NFKC", text).casefold()
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
