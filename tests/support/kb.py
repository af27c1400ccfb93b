"""Test support for the knowledge base: one embedder per process, and small generated documents.

The real files (PDF through pymupdf, DOCX through python-docx, Markdown in Chinese) are made
on the fly so the tests need no corpus; ``shared_embedder()`` loads the packaged model once per
test process (loading takes seconds).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

ZH_PARAGRAPHS = [
    "大熊猫是中国特有的珍稀动物，主要生活在四川、陕西和甘肃的山区竹林中。",
    "大熊猫每天要花十几个小时进食，一只成年大熊猫每天可以吃掉十二到三十八公斤的竹子。",
    "长江是中国第一长河，全长约六千三百公里，流经青海、西藏、四川、云南等十一个省区市。",
]

EN_PAGES = [
    "Emperor penguins breed during the Antarctic winter. The male keeps the egg warm on his "
    "feet for about two months while the female returns to the sea to feed.",
    "The Jurassic Coast in Dorset records 185 million years of geological history in its cliffs "
    "and beaches, from the Triassic through the Jurassic to the Cretaceous periods.",
    "Photosynthesis converts light energy into chemical energy stored in glucose; chlorophyll in "
    "the chloroplasts absorbs mostly blue and red light and reflects green.",
]


@functools.cache
def shared_embedder() -> Any:
    """The default embedder, loaded once for the whole test process."""
    from qwen_desk.core.embedding import Embedder

    embedder = Embedder()
    embedder.load()
    return embedder


def make_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    """A text PDF, one string per page (CJK text uses pymupdf's built-in Chinese font)."""
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
        page.insert_textbox(
            pymupdf.Rect(56, 56, 540, 790), text, fontsize=11, fontname="china-s" if cjk else "helv"
        )
    options: dict[str, Any] = {}
    if password:
        options = {
            "encryption": pymupdf.PDF_ENCRYPT_AES_256,
            "user_pw": password,
            "owner_pw": password + "-owner",
        }
    doc.save(path, **options)
    doc.close()
    return path


def make_docx(path: Path, heading: str, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def make_md(path: Path, title: str, paragraphs: list[str]) -> Path:
    path.write_text(f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def long_text(n_paragraphs: int, seed: int = 0, words_each: int = 60) -> str:
    """Varied English prose: distinct paragraphs (so chunks differ) of ``words_each`` words."""
    import random

    rng = random.Random(seed)
    words = [
        "river",
        "mountain",
        "archive",
        "ledger",
        "contract",
        "invoice",
        "turbine",
        "reactor",
        "valve",
        "audit",
        "patient",
        "dosage",
        "clinical",
        "protocol",
        "statute",
        "clause",
        "tenant",
        "lease",
        "engine",
        "bearing",
        "pressure",
        "sample",
        "budget",
        "forecast",
        "quarter",
        "revenue",
        "margin",
        "license",
        "warranty",
        "inspection",
        "safety",
        "report",
    ]
    paragraphs = []
    for i in range(n_paragraphs):
        body = " ".join(rng.choice(words) for _ in range(words_each))
        paragraphs.append(f"Section {i}. {body.capitalize()}.")
    return "\n\n".join(paragraphs)


# three pages, all about one subject, so that retrieval returns each as a source
PENGUIN_PAGES = [
    "Emperor penguins breed during the Antarctic winter. The male emperor penguin keeps the egg "
    "warm on his feet for about two months.",
    "Emperor penguin chicks hatch after about two months; the female emperor penguin comes back "
    "from the sea and feeds the chick.",
    "Emperor penguins huddle together against the winter wind; the male emperor penguins take "
    "turns at the cold edge of the huddle.",
]
