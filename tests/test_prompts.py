"""Prompt layout (prefix-cache stability), token budget, trimming order, citation markers."""

from __future__ import annotations

import random

import pytest

from qwen_desk.core.citations import parse_citations, strip_invented
from qwen_desk.core.errors import ContextOverflow
from qwen_desk.core.prompts import (
    MESSAGE_OVERHEAD,
    build_prompt,
    detect_language,
    estimate_tokens,
    format_sources,
    not_in_documents_reply,
    safety_margin,
    system_prompt,
)
from qwen_desk.core.types import Hit

EN_TEXT = (
    "The periodic safety review shall be carried out every ten years. It covers design, "
    "ageing, and operating experience. "
)
ZH_TEXT = "核电厂应每十年进行一次定期安全审查，审查范围包括设计、老化管理和运行经验。"


def _hit(i: int, text: str = EN_TEXT, page: int = 3) -> Hit:
    return Hit(
        chunk_id=f"c{i}",
        doc_id="d",
        collection="default",
        path=f"/docs/guide {i}.pdf",
        title="Guide",
        page=page,
        char_start=0,
        char_end=len(text),
        text=text,
        score=1.0 / (i + 1),
    )


def test_language_detection() -> None:
    assert detect_language("What is the review period?") == "en"
    assert detect_language("定期安全审查的周期是多久？") == "zh"
    assert detect_language("什么是 RAG 和 LLM？") == "zh"
    assert detect_language("What does 核电厂 mean in this document?") == "en"
    assert detect_language("１２３") == "en"


def test_token_estimate_is_conservative_and_documented() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("核电厂") == 3  # one per CJK character
    assert estimate_tokens("abcdef") == 2  # len / 3
    assert estimate_tokens("2024") == 4  # digits one each
    assert estimate_tokens("é") == 2
    assert estimate_tokens("a, b.") == 4  # 2 punctuation + 2 letters (1) + 1 space (1)
    assert estimate_tokens("привет") == 18  # other scripts: 3 per character (worst case)
    # English prose: above the ~len/4 a BPE tokenizer gives
    assert estimate_tokens(EN_TEXT) >= len(EN_TEXT) / 4


def test_sources_format_and_message_shapes() -> None:
    text = format_sources([_hit(0), _hit(1, page=0)])
    assert text.startswith("[1] (guide 0.pdf, p. 3)\nThe periodic")
    assert "\n\n[2] (guide 1.pdf)\nThe periodic" in text
    p = build_prompt("How often?", sources=[_hit(0)], num_ctx=8192, num_predict=1024)
    assert [m.role for m in p.messages] == ["system", "user"]
    assert p.messages[0].content == system_prompt("en")
    assert p.messages[1].content.startswith("Sources:\n\n[1] (guide 0.pdf, p. 3)\n")
    assert p.messages[1].content.endswith("\n\nQuestion: How often?")
    zh = build_prompt("多久审查一次？", sources=[_hit(0, ZH_TEXT)], num_ctx=8192, num_predict=1024)
    assert zh.language == "zh" and zh.messages[0].content == system_prompt("zh")
    assert zh.messages[1].content.startswith("资料：\n\n[1] (guide 0.pdf, p. 3)\n核电厂")
    assert zh.messages[1].content.endswith("问题： 多久审查一次？")
    general = build_prompt("Hello there", sources=None, num_ctx=8192, num_predict=1024)
    assert general.messages[0].content == system_prompt("en", documents=False)
    assert general.messages[1].content == "Hello there"
    empty = build_prompt("How often?", sources=[], num_ctx=8192, num_predict=1024)
    assert empty.messages[1].content == "No sources were found.\n\nQuestion: How often?"
    assert not_in_documents_reply("多久审查一次？") == "知识库中的文档没有包含这个问题的答案。"
    assert "do not contain" in not_in_documents_reply("How often?")


def test_five_turn_conversation_keeps_an_identical_prefix() -> None:
    """Each request starts with the previous request minus its last (sources) message."""
    history: list[tuple[str, str]] = []
    previous = None
    start = 0
    for turn in range(5):
        question = f"Question {turn}: what about part {turn}?"
        sources = [_hit(turn * 10 + j) for j in range(4)]
        prompt = build_prompt(
            question,
            sources=sources,
            history=history,
            num_ctx=8192,
            num_predict=1024,
            history_start=start,
        )
        assert prompt.trimmed.history_turns_dropped == 0
        if previous is not None:
            # byte-identical system prompt and history
            assert prompt.messages[: len(previous.messages) - 1] == previous.messages[:-1]
            # the previous turn's question appears bare (no sources) right after
            assert prompt.messages[len(previous.messages) - 1].content == history[-1][0]
        previous = prompt
        start = prompt.history_cut
        history.append((question, f"Answer {turn} [1][2]."))
    assert len(previous.messages) == 1 + 2 * 4 + 1


def test_trimming_drops_low_ranked_sources_first_then_half_the_history() -> None:
    sources = [_hit(i, EN_TEXT * 3) for i in range(6)]  # ~90 tokens each
    history = [(f"q{i} " + "x" * 300, f"a{i} " + "y" * 300) for i in range(8)]  # ~220 each
    roomy = build_prompt("q?", sources=sources, history=history, num_ctx=8192, num_predict=1024)
    assert not roomy.trimmed and len(roomy.sources) == 6
    # just too small for all sources: the lowest-ranked goes, history stays
    over = 8192 - roomy.estimated_tokens - safety_margin(8192) + 40  # 40 tokens too many
    tight = build_prompt("q?", sources=sources, history=history, num_ctx=8192, num_predict=over)
    assert tight.trimmed.history_turns_dropped == 0
    assert 1 <= tight.trimmed.sources_dropped <= 4
    assert [h.chunk_id for h in tight.sources] == [f"c{i}" for i in range(len(tight.sources))]
    # much smaller: sources down to two, then the oldest half of history in one step
    small = build_prompt("q?", sources=sources, history=history, num_ctx=2400, num_predict=512)
    assert small.trimmed.sources_dropped == 4
    assert small.trimmed.history_turns_dropped in (4, 6, 7)
    assert small.messages[1].content.startswith(f"q{small.trimmed.history_turns_dropped} ")
    assert small.budget_used <= 2400
    # the next turn starts from the previous cut: the remaining prefix stays the same
    history2 = [*history, ("q8", "a8")]
    nxt = build_prompt(
        "q?",
        sources=sources,
        history=history2,
        num_ctx=2400,
        num_predict=512,
        history_start=small.history_cut,
    )
    assert nxt.history_cut == small.history_cut
    assert nxt.messages[: len(small.messages) - 1] == small.messages[:-1]


def test_overflow_is_an_error_not_a_silent_truncation() -> None:
    with pytest.raises(ContextOverflow) as info:
        build_prompt("x" * 10_000, sources=[_hit(0)], num_ctx=2048, num_predict=512)
    assert info.value.details["num_ctx"] == 2048


def test_budget_never_exceeds_num_ctx_over_random_inputs() -> None:
    rng = random.Random(1234)
    words = EN_TEXT.split() + list(ZH_TEXT) + ["2024", "3.14", "é", "\n"]

    def text(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    checked = 0
    for _ in range(400):
        num_ctx = rng.choice([1024, 2048, 4096, 8192, 32768])
        num_predict = rng.choice([128, 256, 512, 1024])
        if num_predict >= num_ctx // 2:
            continue
        sources = [_hit(i, text(rng.randint(10, 400))) for i in range(rng.randint(0, 10))]
        history = [
            (text(rng.randint(1, 60)), text(rng.randint(1, 500))) for _ in range(rng.randint(0, 12))
        ]
        question = text(rng.randint(1, 80))
        try:
            p = build_prompt(
                question,
                sources=sources if rng.random() < 0.8 else None,
                history=history,
                num_ctx=num_ctx,
                num_predict=num_predict,
                history_start=rng.randint(0, 3),
            )
        except ContextOverflow:
            continue
        counted = sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD for m in p.messages) + 4
        assert counted == p.estimated_tokens
        assert counted + num_predict + safety_margin(num_ctx) <= num_ctx
        assert p.messages[0].role == "system" and p.messages[-1].role == "user"
        roles = [m.role for m in p.messages[1:]]
        assert roles == ["user", "assistant"] * ((len(roles) - 1) // 2) + ["user"]
        if sources and p.sources:
            assert p.sources == sources[: len(p.sources)]
            assert p.trimmed.sources_dropped == len(sources) - len(p.sources)
        checked += 1
    assert checked > 200


# --- citations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n", "used", "invented"),
    [
        ("Ten years [1].", 3, [1], []),
        ("Ten [1, 2] and [2][3].", 3, [1, 2, 3], []),
        ("十年【1】，范围【２，3】。", 3, [1, 2, 3], []),
        ("Full width ［１］ and ［３］.", 3, [1, 3], []),
        ("Range [1-3] and [2–4].", 3, [1, 2, 3], [4]),
        ("Enumeration [1、3].", 3, [1, 3], []),
        ("Invented [9] and [0].", 3, [], [9, 0]),
        ("Order [3] then [1] then [3].", 3, [3, 1], []),
        ("Year [2024] and a link [1](http://x) and text [a].", 3, [], []),
        ("Spaces [ 2 ] ok.", 3, [2], []),
    ],
)
def test_parse_citations(text: str, n: int, used: list[int], invented: list[int]) -> None:
    assert parse_citations(text, n) == (used, invented)


def test_strip_invented_keeps_text_and_counts() -> None:
    assert strip_invented("Ten years [1].", 2) == ("Ten years [1].", 0)
    assert strip_invented("Ten years [9].", 2) == ("Ten years.", 1)
    assert strip_invented("Ten [1][9] and [7, 2] and 【8】。", 2) == (
        "Ten [1] and [2] and。",
        3,
    )
    assert strip_invented("A [1-4] b [4].", 2) == ("A [1, 2] b.", 2)
