"""UI layer: the translated text of every error code of ``core/errors.py``.

The core raises errors with stable codes and English detail; the user reads the sentence that
this module gives for the code, in their language. ``message_for(code)`` is the one entry point;
``error_text(code, detail)`` adds the core's English detail only where it helps (a file's name
is already shown next to it). A test checks that every code of ``errors.all_error_classes()``
has its own sentence here.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication

translate = QCoreApplication.translate
_NEEDED = re.compile(r"needs about ([0-9]+(?:\.[0-9]+)?) MB")


def _messages() -> dict[str, str]:
    # Each string written out in a translate() call so that lupdate finds it.
    return {
        "qwen_desk_error": translate("Messages", "Something went wrong."),
        "cancelled": translate("Messages", "Cancelled."),
        "document_error": translate("Messages", "This document could not be read."),
        "file_unreadable": translate("Messages", "The file is missing or cannot be opened."),
        "unsupported_type": translate("Messages", "This file type is not supported yet."),
        "empty_file": translate("Messages", "The file is empty."),
        "corrupt_file": translate(
            "Messages", "The file is damaged or is not really the type its name says."
        ),
        "password_required": translate("Messages", "The file is protected by a password."),
        "wrong_password": translate("Messages", "The password is not correct."),
        "unknown_encoding": translate(
            "Messages", "The text encoding of this file could not be recognised."
        ),
        "binary_content": translate("Messages", "The file contains binary data, not text."),
        "no_text": translate(
            "Messages", "No text could be found in the file (it may be scanned images)."
        ),
        "file_too_large": translate("Messages", "The file is too large."),
        "parse_timeout": translate("Messages", "Reading the file took too long and was stopped."),
        "parser_crashed": translate(
            "Messages", "The document reader stopped unexpectedly on this file."
        ),
        "store_error": translate(
            "Messages", "The knowledge base could not complete the operation."
        ),
        "disk_full": translate(
            "Messages",
            "There is not enough free space on the disk. Free some space, then add the files "
            "again.",
        ),
        "embedder_mismatch": translate(
            "Messages",
            "The knowledge base was built with a different embedding model. "
            "Re-index it to use the current model.",
        ),
        "schema_too_new": translate(
            "Messages", "The data was written by a newer version of Qwen Desk."
        ),
        "collection_not_found": translate("Messages", "There is no knowledge base with that name."),
        "collection_exists": translate(
            "Messages", "A knowledge base with that name already exists."
        ),
        "invalid_collection_name": translate(
            "Messages", "That name cannot be used for a knowledge base."
        ),
        "document_not_found": translate("Messages", "The document was not found."),
        "embedder_error": translate("Messages", "The embedding model failed."),
        "embed_model_missing": translate(
            "Messages", "The embedding model folder is missing or does not contain a model."
        ),
        "llm_error": translate("Messages", "The language model server reported an error."),
        "llm_unreachable": translate(
            "Messages", "Ollama is not running or cannot be reached at the configured address."
        ),
        "model_not_found": translate("Messages", "The model is not installed in Ollama."),
        "context_overflow": translate(
            "Messages", "The question and its sources are longer than the model's context window."
        ),
        "out_of_memory": translate("Messages", "The model server ran out of memory."),
        "llm_timeout": translate("Messages", "The model server did not answer in time."),
        "stream_interrupted": translate("Messages", "The answer stopped before it was complete."),
        "pull_failed": translate("Messages", "Downloading the model failed."),
        "bad_response": translate(
            "Messages", "The model server sent a response Qwen Desk does not understand."
        ),
        "conversation_error": translate(
            "Messages", "The conversation could not be saved or loaded."
        ),
        "conversation_not_found": translate("Messages", "The conversation was not found."),
        "export_failed": translate(
            "Messages", "The conversation could not be written to that file."
        ),
        "export_not_permitted": translate(
            "Messages",
            "The conversation could not be exported: you are not allowed to write in that folder.",
        ),
        "invalid_settings": translate("Messages", "A setting has an invalid value."),
    }


def known_codes() -> set[str]:
    """The codes that have a sentence of their own."""
    return set(_messages())


def message_for(code: str) -> str:
    """The translated sentence for ``code`` (a generic one for an unknown code)."""
    messages = _messages()
    return messages.get(code) or messages["qwen_desk_error"]


def disk_full_text(detail: str) -> str:
    """The disk-full sentence with the space needed, read from the core's message
    ("... needs about 12.5 MB ..."); the plain sentence when it says no amount."""
    match = _NEEDED.search(detail or "")
    if match is None:
        return message_for("disk_full")
    return translate(
        "Messages",
        "There is not enough free space on the disk: about %1 MB is needed. "
        "Free some space, then add the files again.",
    ).replace("%1", match.group(1))


def error_text(code: str, detail: str = "", with_detail: bool = False) -> str:
    """The sentence for ``code``, followed by the core's English ``detail`` when asked."""
    if code == "disk_full":
        return disk_full_text(detail)
    text = message_for(code)
    if with_detail and detail and detail.strip() and detail.strip() not in text:
        return f"{text}\n{detail.strip()}"
    return text
