"""Core layer: the one error tree of Qwen Desk, each error with a stable ``code``.

The GUI maps codes to translated text (``ui/messages.py``) and the CLI prints ``code`` and
``message``; the core never translates. Codes are part of the CLI's JSON contract: never rename.

    QwenDeskError                      qwen_desk_error
    ├── Cancelled                      cancelled
    ├── DocumentError
    │   ├── FileNotReadable            file_unreadable      (missing, a folder, no permission)
    │   ├── UnsupportedFileType        unsupported_type     (.doc, .xlsx, images...)
    │   ├── EmptyFile                  empty_file           (zero bytes)
    │   ├── CorruptFile                corrupt_file         (truncated, fuzzed, bad zip, Strict)
    │   ├── PasswordRequired           password_required    (encrypted, no password given)
    │   ├── WrongPassword              wrong_password
    │   ├── UnknownEncoding            unknown_encoding     (text whose encoding is not detected)
    │   ├── BinaryContent              binary_content       (binary renamed .txt)
    │   ├── NoTextContent              no_text              (nothing extractable, e.g. all scanned)
    │   ├── FileTooLarge               file_too_large
    │   ├── ParseTimeout               parse_timeout        (the parser child ran out of time)
    │   └── ParserCrashed              parser_crashed       (the parser child died)
    ├── StoreError                     store_error
    │   ├── DiskFull                   disk_full            (no space left while writing)
    │   ├── EmbedderMismatch           embedder_mismatch    (knowledge base built by another model)
    │   ├── SchemaTooNew               schema_too_new       (written by a newer Qwen Desk)
    │   ├── CollectionNotFound         collection_not_found
    │   ├── CollectionExists           collection_exists
    │   ├── InvalidCollectionName      invalid_collection_name
    │   └── DocumentNotFound           document_not_found
    ├── EmbedderError                  embedder_error
    │   └── EmbedModelMissing          embed_model_missing  (folder absent or not a model)
    ├── LLMError                       llm_error
    │   ├── DaemonUnreachable          llm_unreachable      (connection refused, wrong host)
    │   ├── ModelNotFound              model_not_found      (offer a pull)
    │   ├── ContextOverflow            context_overflow     (prompt over num_ctx)
    │   ├── OutOfMemory                out_of_memory
    │   ├── LLMTimeout                 llm_timeout
    │   ├── StreamInterrupted          stream_interrupted   (error or disconnect mid-answer)
    │   ├── PullFailed                 pull_failed
    │   └── BadResponse                bad_response         (the server said something unexpected)
    ├── ConversationError              conversation_error
    │   ├── ConversationNotFound       conversation_not_found
    │   └── ExportFailed               export_failed        (the file could not be written)
    │       └── ExportNotPermitted     export_not_permitted (no right to write there, read-only)
    └── SettingsError                  invalid_settings
"""

from __future__ import annotations

from typing import Any, ClassVar


class QwenDeskError(Exception):
    """Base of every error the core raises on purpose; ``code`` is stable, ``message`` English."""

    code: ClassVar[str] = "qwen_desk_error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the CLI and stored with failed documents."""
        return {"code": self.code, "message": self.message}

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (the parser child): keep code, message and details.
        return (_rebuild_error, (self.__class__, self.message, self.details))


def _rebuild_error(
    cls: type[QwenDeskError], message: str, details: dict[str, Any]
) -> QwenDeskError:
    return cls(message, **details)


class Cancelled(QwenDeskError):
    """The operation was cancelled."""

    code = "cancelled"


# --- documents -------------------------------------------------------------------------------


class DocumentError(QwenDeskError):
    """The document could not be read."""

    code = "document_error"


class FileNotReadable(DocumentError):
    """The file does not exist or cannot be opened."""

    code = "file_unreadable"


class UnsupportedFileType(DocumentError):
    """This file type is not supported yet."""

    code = "unsupported_type"


class EmptyFile(DocumentError):
    """The file is empty."""

    code = "empty_file"


class CorruptFile(DocumentError):
    """The file is damaged or not in the format its name says."""

    code = "corrupt_file"


class PasswordRequired(DocumentError):
    """The file is encrypted and needs a password."""

    code = "password_required"


class WrongPassword(DocumentError):
    """The password does not open this file."""

    code = "wrong_password"


class UnknownEncoding(DocumentError):
    """The text encoding of the file could not be detected."""

    code = "unknown_encoding"


class BinaryContent(DocumentError):
    """The file holds binary data, not text."""

    code = "binary_content"


class NoTextContent(DocumentError):
    """No text could be extracted from the file."""

    code = "no_text"


class FileTooLarge(DocumentError):
    """The file is larger than the supported maximum."""

    code = "file_too_large"


class ParseTimeout(DocumentError):
    """Reading the file took too long and was stopped."""

    code = "parse_timeout"


class ParserCrashed(DocumentError):
    """The document reader stopped unexpectedly on this file."""

    code = "parser_crashed"


# --- knowledge base ---------------------------------------------------------------------------


class StoreError(QwenDeskError):
    """The knowledge base could not complete the operation."""

    code = "store_error"


class DiskFull(StoreError):
    """There is not enough free space on the disk to store this."""

    code = "disk_full"

    @classmethod
    def needing(cls, what: str, needed_bytes: int, free_bytes: int | None) -> DiskFull:
        """The error for writing ``what``: the message states the space needed (and free)."""
        needed = max(needed_bytes, 1) / MB
        free = "" if free_bytes is None else f", {free_bytes / MB:.1f} MB are free"
        return cls(
            f"The disk is full: storing {what} needs about {needed:.1f} MB{free}",
            needed_bytes=needed_bytes,
            free_bytes=free_bytes,
        )


MB = 1024 * 1024
_NO_SPACE = ("No space left on device", "database or disk is full", "Disk quota exceeded")


def is_disk_full(exc: BaseException, folder: Any = None) -> bool:
    """Whether ``exc`` (or what caused it) says the disk is full: ``OSError`` errno 28 (ENOSPC)
    or 122 (EDQUOT), a LanceError(IO) or sqlite message saying so; with ``folder``, also a
    sqlite "disk I/O error" (what a full disk gives while its journal is written) when that
    folder's disk has less than 1 MB free."""
    import errno

    if folder is not None and "disk I/O error" in str(exc) and _nearly_full(folder):
        return True

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFull):
            return True
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(current) for text in _NO_SPACE):
            return True
        current = current.__cause__ or current.__context__
    return False


def _nearly_full(folder: Any) -> bool:
    import shutil
    from pathlib import Path

    path = Path(folder)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free < MB
    except OSError:
        return False


class EmbedderMismatch(StoreError):
    """The knowledge base was built with a different embedding model; re-index to use this one."""

    code = "embedder_mismatch"


class SchemaTooNew(StoreError):
    """The data was written by a newer version of Qwen Desk."""

    code = "schema_too_new"


class CollectionNotFound(StoreError):
    """No knowledge base has that name."""

    code = "collection_not_found"


class CollectionExists(StoreError):
    """A knowledge base with that name already exists."""

    code = "collection_exists"


class InvalidCollectionName(StoreError):
    """That name cannot be used for a knowledge base."""

    code = "invalid_collection_name"


class DocumentNotFound(StoreError):
    """No document matches."""

    code = "document_not_found"


# --- embeddings -------------------------------------------------------------------------------


class EmbedderError(QwenDeskError):
    """The embedding model failed."""

    code = "embedder_error"


class EmbedModelMissing(EmbedderError):
    """The embedding model folder is missing or is not a sentence-transformers model."""

    code = "embed_model_missing"


# --- language model ---------------------------------------------------------------------------


class LLMError(QwenDeskError):
    """The language model server reported an error."""

    code = "llm_error"


class DaemonUnreachable(LLMError):
    """The Ollama daemon is not reachable at the configured host."""

    code = "llm_unreachable"


class ModelNotFound(LLMError):
    """The model is not installed in Ollama."""

    code = "model_not_found"


class ContextOverflow(LLMError):
    """The prompt is longer than the model's context window."""

    code = "context_overflow"


class OutOfMemory(LLMError):
    """The model server ran out of memory."""

    code = "out_of_memory"


class LLMTimeout(LLMError):
    """The model server did not answer in time."""

    code = "llm_timeout"


class StreamInterrupted(LLMError):
    """The answer stopped before it was complete."""

    code = "stream_interrupted"


class PullFailed(LLMError):
    """Downloading the model failed."""

    code = "pull_failed"


class BadResponse(LLMError):
    """The model server sent a response Qwen Desk does not understand."""

    code = "bad_response"


# --- conversations and settings ---------------------------------------------------------------


class ConversationError(QwenDeskError):
    """The conversation store failed."""

    code = "conversation_error"


class ConversationNotFound(ConversationError):
    """No conversation has that id."""

    code = "conversation_not_found"


class ExportFailed(ConversationError):
    """The conversation could not be written to the chosen file."""

    code = "export_failed"


class ExportNotPermitted(ExportFailed):
    """Writing the export there is not allowed (permissions, a read-only disk)."""

    code = "export_not_permitted"


class SettingsError(QwenDeskError):
    """A setting has an invalid value."""

    code = "invalid_settings"


def all_error_classes() -> list[type[QwenDeskError]]:
    """Every error class of the tree, base first (used to check that each code is translated)."""
    found: list[type[QwenDeskError]] = []
    pending: list[type[QwenDeskError]] = [QwenDeskError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def error_for_code(code: str) -> type[QwenDeskError]:
    """The class whose ``code`` is ``code`` (the base class when unknown)."""
    for cls in all_error_classes():
        if cls.code == code:
            return cls
    return QwenDeskError
