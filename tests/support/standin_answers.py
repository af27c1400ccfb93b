"""Test support: the stand-in daemon's text side: token estimates, answer pieces, echo answers.

Token counting is approximate, a budget estimate rather than a tokenizer: one token per CJK
character (Han, kana, hangul, full-width punctuation), one per ~4 other characters, plus 4 tokens
of template per chat message. Answers stream in pieces of about one token (a word with its leading
space, a CJK character, a punctuation mark). The default "echo" answer finds the numbered sources
of the last user message (tolerantly: the prompt format belongs to ``core/prompts.py``) and
answers in the question's language with one sentence per source, each ending with its ``[n]``.
"""

from __future__ import annotations

import math
import re
from typing import Any

_CJK_CLASS = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_CJK_RE = re.compile(f"[{_CJK_CLASS}]")
_PIECE_RE = re.compile(
    rf"[{_CJK_CLASS}]"  # one CJK character or full-width mark
    rf"|\s*[^\W{_CJK_CLASS}]{{1,10}}"  # a word (at most 10 characters) with its leading space
    rf"|\s*[^\w\s{_CJK_CLASS}]"  # a punctuation mark with its leading space
    r"|\s+",  # whitespace before a CJK character, or at the end
    re.S,
)


def approx_tokens(text: str) -> int:
    """Approximate token count: CJK character = 1 token, other text ~4 characters per token."""
    cjk = len(_CJK_RE.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


def split_pieces(text: str) -> list[str]:
    """Cut ``text`` into pieces of about one token; ``"".join(pieces) == text``."""
    return _PIECE_RE.findall(text)


def is_chinese(text: str) -> bool:
    """Chinese when CJK characters are at least as many as Latin words (prompts.py's rule)."""
    cjk = len(_CJK_RE.findall(text))
    return cjk > 0 and cjk >= len(_LATIN_WORD_RE.findall(text))


# Source markers the echo answer recognises at the start of a line: "[1] ...", "【1】",
# "Source [1]", "Source 1:", "来源 [1]", "<source id="1">", "### [1] title". Tolerant on purpose:
# the prompt format is owned by qwen_desk/core/prompts.py and may change.
_SOURCE_LINE_RES = (
    re.compile(r"^\s*(?:[#>*-]+\s*)?[\[【](\d{1,3})[\]】]\s*[:：.\-]?\s*(.*)$"),
    re.compile(
        r"^\s*(?:[#>*-]+\s*)?(?:source|passage|document|doc|excerpt|来源|资料|文档|片段)\s*"
        r"(?:#\s*)?[\[【(]?(\d{1,3})[\]】)]?\s*[:：.\-]?\s*(.*)$",
        re.I,
    ),
    re.compile(
        r"""^\s*<(?:source|document|doc)\b[^>]*?\b(?:id|n|index)\s*=\s*["']?(\d{1,3})[^>]*>\s*(.*)$""",
        re.I,
    ),
)
_LABEL_ONLY_RE = re.compile(r"^[(（].*[)）]$")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
_QUESTION_RE = re.compile(r"^\s*(?:#+\s*)?(?:question|query|q|问题|提问)\s*[:：]\s*(.*)$", re.I)


def find_sources(text: str) -> list[tuple[int, str]]:
    """``(n, snippet)`` for each numbered source in ``text``, first occurrence of each ``n``."""
    lines = text.splitlines()
    found: dict[int, str] = {}
    for i, line in enumerate(lines):
        for pattern in _SOURCE_LINE_RES:
            m = pattern.match(line)
            if not m:
                continue
            n, rest = int(m.group(1)), m.group(2).strip()
            if not rest or _LABEL_ONLY_RE.match(rest):  # "[1] (file.pdf, p. 3)": passage follows
                rest = next((nxt.strip() for nxt in lines[i + 1 : i + 4] if nxt.strip()), rest)
            found.setdefault(n, re.sub(r"<[^>]+>", "", rest).strip())
            break
    return sorted(found.items())


def find_question(text: str) -> str:
    """The question of a user message: after a "Question:" label, else its last plain paragraph."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _QUESTION_RE.match(line)
        if m:
            rest = [m.group(1).strip()] + [ln.strip() for ln in lines[i + 1 :]]
            return " ".join(part for part in rest if part).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    for para in reversed(paragraphs):
        first = para.splitlines()[0]
        if not any(p.match(first) for p in _SOURCE_LINE_RES) and not first.lstrip().startswith("<"):
            return para
    return paragraphs[-1] if paragraphs else ""


def _snippet(text: str, cjk: bool) -> str:
    text = re.sub(r"\s+", " ", text).strip().rstrip(".。:：;；,，")
    if cjk:
        return text[:24]
    words = text.split(" ")
    return " ".join(words[:12])


def default_answer(body: dict[str, Any]) -> str:
    """The echo-style answer: one sentence per numbered source, ending with its ``[n]`` marker."""
    messages = body.get("messages") or []
    user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    text = (user or {}).get("content") or body.get("prompt") or ""
    question = find_question(text)
    zh = is_chinese(question)
    sources = find_sources(text)
    if not sources:
        if zh:
            return f"这是替身模型对“{_snippet(question, True)}”的回答。"
        return f"This is the stand-in's answer to: {_snippet(question, False)}."
    sentences = []
    for n, snippet in sources:
        if zh:
            sentences.append(f"根据资料{n}，{_snippet(snippet, True) or '其内容相关'} [{n}]。")
        else:
            sentences.append(f"Source {n} says: {_snippet(snippet, False) or 'see there'} [{n}].")
    return ("" if zh else " ").join(sentences)


def prompt_tokens(body: dict[str, Any]) -> int:
    if "messages" in body:
        return sum(approx_tokens(m.get("content") or "") + 4 for m in body["messages"] or [])
    return approx_tokens((body.get("system") or "") + (body.get("prompt") or ""))
