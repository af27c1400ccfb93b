"""Core layer: the messages sent to the model, laid out for the daemon's prefix cache and budget.

Layout (Ollama reuses the KV cache of the longest identical token prefix of the previous request):

    system     one fixed, byte-identical text per mode (documents / general) and language
    user       earlier question, exactly as stored (never with the sources it was asked with)
    assistant  earlier answer, exactly as stored
    ...
    user       this turn's numbered sources, then the question

So from one turn to the next the system prompt and the whole history are an identical prefix;
only the newest user message is new. The language of the system prompt is fixed by the
conversation's first question (switching it would throw the cache away); the prompt tells the
model to answer in the language of each question.

Budget: ``estimate_tokens`` over-counts on purpose. Per character: CJK (Han, kana, hangul, CJK
and full-width punctuation) 1 token, Latin-1/Latin Extended letters 2, any other non-ASCII
character 3 (a byte-level BPE token per UTF-8 byte, the worst case), ASCII digits 1 (Qwen splits
numbers per digit), ASCII punctuation and symbols 1; ASCII letters 1 per 3, spaces 1 per 4.
Checked against the real Qwen2.5 BPE by ``bench/token_estimate.py`` on 760 slices of the corpus:
never under on Chinese or English text (estimate / real >= 1.0, median 1.46); the only under-counts
are ASCII text in rare languages (Maori, Quechua, Pular: down to 0.75), which the safety margin
and ``truncate: false`` (the daemon refuses rather than cuts) cover. Each message adds
``MESSAGE_OVERHEAD`` tokens for the chat template (``<|im_start|>role\\n ... <|im_end|>\\n`` is
5) and the reply adds ``REPLY_PRIMING`` for the assistant header the template appends.
``system + history + sources + question + num_predict + safety margin <= num_ctx`` always holds,
or ``ContextOverflow`` is raised. What does not fit is trimmed in this order:
1. sources, lowest-ranked first, down to ``keep_sources`` (2);
2. history, whole question/answer pairs, oldest first, in large steps: each step drops the older
   half of what is left. The step starts from the previous turn's cut (``history_start``, stored
   with each answer), so the cut only moves now and then and the prefix stays stable in between;
3. the remaining sources down to one. A prompt that still does not fit raises ``ContextOverflow``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from qwen_desk.core.errors import ContextOverflow
from qwen_desk.core.naming import document_name
from qwen_desk.core.types import ChatMessage, Hit

MESSAGE_OVERHEAD = 8  # chat template tokens around each message (5 for Qwen's ChatML), rounded up
REPLY_PRIMING = 4  # "<|im_start|>assistant\n" appended after the last message
MIN_SAFETY_MARGIN = 64
KEEP_SOURCES = 2

_CJK_LETTERS = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_RE = re.compile(f"[{_CJK_LETTERS}]")  # Han, kana, hangul: what makes a question Chinese
_CJK_TOKEN_RE = re.compile(f"[{_CJK_LETTERS}\u3000-\u303f\uff00-\uffef]")  # + CJK punctuation
_LATIN_EXT_RE = re.compile("[\u0080-\u024f]")
_ASCII_LETTER_RE = re.compile("[A-Za-z]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
_DIGIT_RE = re.compile(r"[0-9]")

# --- fixed texts (edit only with care: any change throws away every user's prefix cache) -----

SYSTEM_PROMPTS: dict[tuple[str, str], str] = {
    ("documents", "en"): (
        "You are Qwen Desk, an assistant that answers questions using only the numbered sources "
        "given in the user's message.\n"
        "Rules:\n"
        "1. Use only facts stated in the sources. Do not add outside knowledge.\n"
        "2. Right after each claim, cite the source it comes from as [n], for example [1] or "
        "[2][3]. Cite only numbers that appear in the sources of the current message.\n"
        "3. If the sources do not contain the answer, say plainly that the documents do not "
        "contain it. Do not guess.\n"
        "4. Answer in the language of the question.\n"
        "5. Source numbers belong to the message they appear in; numbers in earlier answers "
        "refer to earlier sources."
    ),
    ("documents", "zh"): (
        "你是 Qwen Desk，一个只根据用户消息中带编号的资料回答问题的助手。\n"
        "规则：\n"
        "1. 只使用资料中写明的事实，不要补充资料以外的知识。\n"
        "2. 每个论断之后紧跟其出处编号，格式为 [n]，例如 [1] 或 [2][3]。"
        "只能引用当前消息资料中出现的编号。\n"
        "3. 如果资料中没有答案，请直接说明文档中没有相关内容，不要猜测。\n"
        "4. 使用提问所用的语言回答。\n"
        "5. 资料编号只对应其所在的那条消息；之前回答中的编号指的是之前的资料。"
    ),
    ("general", "en"): (
        "You are Qwen Desk, a helpful assistant running privately on the user's computer. "
        "Answer clearly and concisely, in the language of the question. "
        "Say so when you are not sure."
    ),
    ("general", "zh"): (
        "你是 Qwen Desk，一个在用户电脑上私密运行的助手。"
        "请用提问所用的语言清晰、简洁地回答。不确定时请直接说明。"
    ),
}

_LABELS = {
    "en": {"sources": "Sources:", "question": "Question:", "none": "No sources were found."},
    "zh": {"sources": "资料：", "question": "问题：", "none": "没有找到相关资料。"},
}

NOT_IN_DOCUMENTS = {
    "en": "The documents in this knowledge base do not contain the answer to this question.",
    "zh": "知识库中的文档没有包含这个问题的答案。",
}

NO_DOCUMENTS = {
    "en": "There are no documents in this knowledge base yet. Add files to it to ask about "
    "them, or ask without documents.",
    "zh": "这个知识库里还没有文档。请先添加文件再提问，或者不使用文档直接提问。",
}


# --- language and tokens ------------------------------------------------------------------


def detect_language(text: str) -> str:
    """``"zh"`` when CJK characters are at least as many as Latin words, else ``"en"``.

    Comparing characters with words keeps "什么是 RAG 和 LLM？" Chinese and "What does 核电厂
    mean here?" English.
    """
    cjk = len(_CJK_RE.findall(text))
    if not cjk:
        return "en"
    return "zh" if cjk >= len(_LATIN_WORD_RE.findall(text)) else "en"


def estimate_tokens(text: str) -> int:
    """A deliberately high token count for Qwen2.5 (see the module docstring for the numbers)."""
    if not text:
        return 0
    cjk = len(_CJK_TOKEN_RE.findall(text))
    latin = len(_LATIN_EXT_RE.findall(text))
    ascii_text = text.encode("ascii", "ignore")
    other = len(text) - len(ascii_text) - cjk - latin
    digits = len(_DIGIT_RE.findall(text))
    letters = len(_ASCII_LETTER_RE.findall(text))
    spaces = ascii_text.count(b" ")
    symbols = len(ascii_text) - digits - letters - spaces
    return (
        cjk
        + 2 * latin
        + 3 * other
        + digits
        + symbols
        + math.ceil(letters / 3)
        + math.ceil(spaces / 4)
    )


def message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(message.content) + MESSAGE_OVERHEAD


def safety_margin(num_ctx: int) -> int:
    """Room left unused: 2% of the window, at least ``MIN_SAFETY_MARGIN`` tokens."""
    return max(MIN_SAFETY_MARGIN, num_ctx // 50)


# --- message shapes -----------------------------------------------------------------------


def system_prompt(language: str, *, documents: bool = True) -> str:
    return SYSTEM_PROMPTS[("documents" if documents else "general", _lang(language))]


def not_in_documents_reply(question: str) -> str:
    """The fixed answer when a knowledge base has nothing relevant, in the question's language."""
    return NOT_IN_DOCUMENTS[detect_language(question)]


def no_documents_reply(question: str) -> str:
    """The fixed answer when a knowledge base has no documents at all, in the question's
    language."""
    return NO_DOCUMENTS[detect_language(question)]


def source_label(hit: Hit) -> str:
    """``file name, p. 3`` (no page when the document has none)."""
    name = document_name(hit.path, hit.title).name or hit.doc_id
    return f"{name}, p. {hit.page}" if hit.page > 0 else name


def format_sources(sources: Sequence[Hit]) -> str:
    """``[1] (file name, p. 3)\\n<text>`` blocks, numbered from 1 in rank order."""
    return "\n\n".join(
        f"[{n}] ({source_label(hit)})\n{hit.text.strip()}" for n, hit in enumerate(sources, 1)
    )


def user_message(question: str, sources: Sequence[Hit] | None, language: str) -> str:
    """This turn's user message: the sources then the question; the bare question in general
    chat (``sources`` is None), and a "no sources" note when a search found nothing."""
    if sources is None:
        return question
    labels = _LABELS[_lang(language)]
    head = f"{labels['sources']}\n\n{format_sources(sources)}" if sources else labels["none"]
    return f"{head}\n\n{labels['question']} {question}"


def _lang(language: str) -> str:
    return "zh" if language == "zh" else "en"


# --- the budgeted prompt ------------------------------------------------------------------


@dataclass(frozen=True)
class Trimmed:
    """What the budget left out of a prompt (``history_turns_dropped`` counts Q/A pairs)."""

    sources_dropped: int = 0
    history_turns_dropped: int = 0

    def __bool__(self) -> bool:
        return bool(self.sources_dropped or self.history_turns_dropped)

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Trimmed:
        data = data or {}
        return cls(
            sources_dropped=int(data.get("sources_dropped", 0)),
            history_turns_dropped=int(data.get("history_turns_dropped", 0)),
        )


@dataclass
class Prompt:
    """Messages ready for ``LLMBackend.chat`` and what went into them."""

    messages: list[ChatMessage]
    sources: list[Hit]  # the sources kept, numbered [1].. in this order
    trimmed: Trimmed
    language: str  # of the system prompt
    estimated_tokens: int  # the prompt alone
    num_ctx: int
    num_predict: int
    history_cut: int = 0  # absolute number of oldest pairs left out (store it for next turn)

    @property
    def budget_used(self) -> int:
        """Prompt + reply room + margin; never above ``num_ctx``."""
        return self.estimated_tokens + self.num_predict + safety_margin(self.num_ctx)

    def text(self) -> str:
        """The prompt as one string (for prefix-stability measurements)."""
        return "".join(f"<{m.role}>{m.content}" for m in self.messages)


def build_prompt(
    question: str,
    *,
    sources: Sequence[Hit] | None,
    history: Sequence[tuple[str, str]] = (),
    num_ctx: int,
    num_predict: int,
    history_start: int = 0,
    language: str | None = None,
    keep_sources: int = KEEP_SOURCES,
) -> Prompt:
    """Lay out and budget one request.

    ``sources`` None means general chat (no documents); a list (best first) means a knowledge
    base answer. ``history`` holds the earlier (question, answer) texts as stored, oldest first.
    ``history_start`` is the cut of the previous turn: never re-include pairs it dropped.
    ``language`` picks the system prompt (default: detected from the first question).
    """
    documents = sources is not None
    all_sources = list(sources or [])
    if language is None:
        language = detect_language(history[0][0] if history else question)
    language = _lang(language)
    system = ChatMessage("system", system_prompt(language, documents=documents))
    pair_costs = [
        message_tokens(ChatMessage("user", q)) + message_tokens(ChatMessage("assistant", a))
        for q, a in history
    ]
    fixed = message_tokens(system) + REPLY_PRIMING
    limit = num_ctx - num_predict - safety_margin(num_ctx)

    def question_cost(k: int) -> int:
        content = user_message(question, all_sources[:k] if documents else None, language)
        return estimate_tokens(content) + MESSAGE_OVERHEAD

    def total(k: int, cut: int) -> int:
        return fixed + sum(pair_costs[cut:]) + question_cost(k)

    k = len(all_sources)
    cut = min(max(history_start, 0), len(history))
    floor = min(keep_sources, k)
    while k > floor and total(k, cut) > limit:
        k -= 1
    while cut < len(history) and total(k, cut) > limit:
        cut += math.ceil((len(history) - cut) / 2)
    while k > min(1, len(all_sources)) and total(k, cut) > limit:
        k -= 1
    used = total(k, cut)
    if used > limit:
        raise ContextOverflow(
            f"the question and one source need about {used} tokens, but the context window "
            f"({num_ctx}) leaves {limit} after {num_predict} for the answer",
            needed=used,
            limit=limit,
            num_ctx=num_ctx,
        )
    messages = [system]
    for q, a in history[cut:]:
        messages += [ChatMessage("user", q), ChatMessage("assistant", a)]
    kept = all_sources[:k]
    messages.append(
        ChatMessage("user", user_message(question, kept if documents else None, language))
    )
    return Prompt(
        messages=messages,
        sources=kept,
        trimmed=Trimmed(len(all_sources) - k, cut),
        language=language,
        estimated_tokens=used,
        num_ctx=num_ctx,
        num_predict=num_predict,
        history_cut=cut,
    )
