"""Core layer: the plain dataclasses that every layer exchanges.

Parsed documents, chunks, search hits, ingestion events, LLM stream events, citations and
conversation records live here so that Qt models (``qwen_desk.models``) can adapt them without
importing any back-end library. Everything is picklable (parsed documents cross a process
boundary) and free of heavy imports.

Offsets: ``char_start``/``char_end`` always index into ``ParsedDocument.text``, the document's
whole extracted text (pages joined by ``PAGE_SEPARATOR``). Pages are 1-based. PDF rectangles are
in PDF points on their page, top-left origin (pymupdf's convention): ``(x0, y0, x1, y1)``.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

PAGE_SEPARATOR = "\n\n"
Rect = tuple[float, float, float, float]

# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


class BlockKind(str, enum.Enum):
    """What a parsed block of text is; chunking treats headings and tables specially."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE = "table"
    HEADER = "header"
    FOOTER = "footer"
    FOOTNOTE = "footnote"
    ENDNOTE = "endnote"
    TEXTBOX = "textbox"
    CODE = "code"


@dataclass
class LineSpan:
    """One line of a PDF block: its character range in the document text and its rectangle."""

    start: int
    end: int
    rect: Rect


@dataclass
class Block:
    """A unit of extracted text in reading order (a paragraph, a heading, a whole table...)."""

    text: str
    kind: BlockKind
    page: int
    start: int
    end: int
    level: int = 0  # heading level (1 = top), 0 for non-headings
    heading_path: tuple[str, ...] = ()  # titles of the enclosing headings, outermost first
    lines: list[LineSpan] = field(default_factory=list)  # PDF only


@dataclass
class ParsedDocument:
    """What a parser returns: the whole text, its blocks, and facts about the file."""

    path: str
    kind: str  # "pdf", "docx", "txt", "md"
    title: str
    text: str
    blocks: list[Block]
    page_count: int
    scanned_pages: list[int] = field(default_factory=list)  # pages with no text layer
    page_sizes: list[tuple[float, float]] = field(default_factory=list)  # PDF points, per page
    encoding: str | None = None  # detected text encoding (TXT/MD)
    warnings: list[str] = field(default_factory=list)
    # Running headers, footers, page numbers and watermarks (PDF: text repeated at the same
    # place on many pages; DOCX: header and footer parts), one text each. Their blocks are
    # HEADER / FOOTER blocks of ``text``; chunking leaves them out (metadata, not passages).
    running_text: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Knowledge base
# ---------------------------------------------------------------------------------------------


def make_chunk_id(collection: str, doc_id: str, ordinal: int) -> str:
    """Stable id of a chunk: the same file in two collections gives different ids."""
    key = hashlib.sha1(f"{collection}\x00{doc_id}".encode()).hexdigest()[:16]
    return f"{key}-{ordinal:06d}"


@dataclass
class Chunk:
    """A retrievable passage: a piece of one page (PDF) or of the text, with where it came from."""

    chunk_id: str
    doc_id: str
    collection: str
    ord: int
    page: int
    char_start: int
    char_end: int
    text: str
    heading: str = ""  # heading path joined with " > "
    rects: list[Rect] = field(default_factory=list)  # on ``page``, PDF only
    n_tokens: int = 0


class DocumentStatus(str, enum.Enum):
    READY = "ready"
    FAILED = "failed"


PAGINATED_KINDS = frozenset({"pdf"})
"""Document kinds whose pages are fixed, so a page count means something (PDF). Word, Markdown
and text reflow: their "pages" are an artefact of the reader and are never shown."""


def is_paginated(kind_or_path: str) -> bool:
    """Whether to show a page count for a document of this kind (``"pdf"``) or file name."""
    kind = kind_or_path.rsplit(".", 1)[-1] if "." in kind_or_path else kind_or_path
    return kind.lower() in PAGINATED_KINDS


@dataclass
class DocumentRecord:
    """One row of the ``documents`` table (only complete documents are visible)."""

    doc_id: str  # sha256 of the file's bytes
    collection: str
    path: str
    title: str
    kind: str
    size: int
    mtime: float
    pages: int
    n_chunks: int
    embed_model: str
    status: DocumentStatus = DocumentStatus.READY
    scanned_pages: int = 0
    error_code: str = ""
    error_message: str = ""
    added_at: float = 0.0


@dataclass
class CollectionInfo:
    name: str
    created_at: float
    n_documents: int = 0
    n_chunks: int = 0


PASSAGE_FIELDS = ("chunk_id", "doc_id", "path", "title", "page", "char_start", "char_end", "text")


def passage_json(passage: Any) -> dict[str, Any]:
    """Where a passage comes from, as the CLI prints it (shared by hits and citations)."""
    return {name: getattr(passage, name) for name in PASSAGE_FIELDS}


@dataclass
class Hit:
    """A search result: the chunk, its document, and a fused relevance score (higher is better)."""

    chunk_id: str
    doc_id: str
    collection: str
    path: str
    title: str
    page: int
    char_start: int
    char_end: int
    text: str
    score: float
    heading: str = ""
    rects: list[Rect] = field(default_factory=list)
    vector_distance: float | None = None  # cosine distance of the vector leg, when it matched
    fts_score: float | None = None  # BM25 of the full-text leg, when it matched

    def to_json(self) -> dict[str, Any]:
        """The CLI's search contract."""
        return {**passage_json(self), "score": self.score}


# ---------------------------------------------------------------------------------------------
# Ingestion
# ---------------------------------------------------------------------------------------------


class IngestState(str, enum.Enum):
    QUEUED = "queued"
    PARSING = "parsing"
    EMBEDDING = "embedding"
    READY = "ready"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # unsupported type found while walking a folder


_FINISHED_STATES = frozenset(
    {
        IngestState.READY,
        IngestState.UNCHANGED,
        IngestState.FAILED,
        IngestState.CANCELLED,
        IngestState.SKIPPED,
    }
)


@dataclass
class ErrorInfo:
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class IngestEvent:
    """Progress of one file through the ingestion pipeline."""

    path: str
    collection: str
    state: IngestState
    job_id: int = 0
    doc_id: str | None = None
    done: int = 0  # chunks embedded so far (EMBEDDING)
    total: int = 0  # chunks to embed (EMBEDDING)
    pages: int = 0
    chunks: int = 0
    scanned_pages: int = 0
    error: ErrorInfo | None = None

    @property
    def finished(self) -> bool:
        return self.state in _FINISHED_STATES  # read several times per event on the GUI thread


# ---------------------------------------------------------------------------------------------
# Language model
# ---------------------------------------------------------------------------------------------


@dataclass
class ChatMessage:
    role: str  # "system", "user", "assistant"
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass
class TokenDelta:
    """A piece of the answer as it streams."""

    text: str


# How an answer's saved ``stats`` tell what it was made from (read by the window and the CLI):
#: ``done_reason`` of the fixed reply when nothing relevant was retrieved (the model not asked)
NOT_IN_DOCUMENTS = "not_in_documents"
#: ``done_reason`` of the fixed reply when the knowledge base holds no documents at all
NO_DOCUMENTS = "no_documents"
#: stats key, true for an answer the model gave without any documents (plain chat)
WITHOUT_DOCUMENTS = "without_documents"


@dataclass
class StreamStats:
    """The final event of a chat stream."""

    done_reason: str = ""  # "stop", "length", "load", "cancelled"...
    prompt_tokens: int = 0
    eval_tokens: int = 0
    ttft_s: float | None = None  # measured by the client, request sent -> first token
    tokens_per_s: float | None = None  # eval_count / eval_duration
    total_s: float | None = None
    load_s: float | None = None
    prompt_eval_s: float | None = None
    model: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "done_reason": self.done_reason,
            "prompt_tokens": self.prompt_tokens,
            "eval_tokens": self.eval_tokens,
            "ttft_s": self.ttft_s,
            "tokens_per_s": self.tokens_per_s,
            "total_s": self.total_s,
            "load_s": self.load_s,
            "prompt_eval_s": self.prompt_eval_s,
            "model": self.model,
        }


@dataclass
class ModelInfo:
    name: str
    size: int = 0
    family: str = ""
    parameter_size: str = ""
    quantization: str = ""
    context_length: int | None = None
    modified_at: str = ""


@dataclass
class LoadedModel:
    """One entry of ``/api/ps``."""

    name: str
    size: int = 0
    size_vram: int = 0
    context_length: int | None = None
    expires_at: str = ""

    @property
    def gpu_fraction(self) -> float:
        return self.size_vram / self.size if self.size else 0.0


@dataclass
class PullProgress:
    """One report of a model pull.

    ``completed``/``total`` are the daemon's numbers for the layer named by ``digest``;
    ``model_completed``/``model_total`` (filled by ``PullRateMeter``) are summed over every layer
    seen so far, as Ollama's own CLI counts, and are what a progress bar shows. Speed and time
    left are over the whole model too.
    """

    status: str
    digest: str = ""
    completed: int = 0
    total: int = 0
    bytes_per_s: float | None = None
    eta_s: float | None = None
    model_completed: int = 0
    model_total: int = 0

    @property
    def fraction(self) -> float | None:
        """Share of the whole model downloaded (of the layer when no sums were filled in)."""
        if self.model_total:
            return min(1.0, self.model_completed / self.model_total)
        return self.completed / self.total if self.total else None


# ---------------------------------------------------------------------------------------------
# Answers and conversations
# ---------------------------------------------------------------------------------------------


@dataclass
class Citation:
    """A ``[n]`` marker of an answer mapped back to its passage."""

    n: int
    chunk_id: str
    doc_id: str
    path: str
    title: str
    page: int
    char_start: int
    char_end: int
    text: str
    rects: list[Rect] = field(default_factory=list)
    collection: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            **passage_json(self),
            "rects": [list(r) for r in self.rects],
            "collection": self.collection,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        return cls(
            n=int(data["n"]),
            chunk_id=data["chunk_id"],
            doc_id=data["doc_id"],
            path=data["path"],
            title=data.get("title", ""),
            page=int(data["page"]),
            char_start=int(data["char_start"]),
            char_end=int(data["char_end"]),
            text=data.get("text", ""),
            rects=[tuple(r) for r in data.get("rects", [])],  # type: ignore[misc]
            collection=data.get("collection", ""),
        )


class MessageState(str, enum.Enum):
    STREAMING = "streaming"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass
class MessageRecord:
    id: int
    conversation_id: int
    role: str
    text: str
    state: MessageState = MessageState.DONE
    citations: list[Citation] = field(default_factory=list)
    model: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    # what the prompt budget left out for this answer: {"sources_dropped", "history_turns_dropped"}
    trimmed: dict[str, int] = field(default_factory=dict)


@dataclass
class ConversationRecord:
    id: int
    title: str
    collection: str | None
    created_at: float
    updated_at: float
    n_messages: int = 0
