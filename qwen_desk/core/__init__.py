"""Core layer: documents, knowledge base, language model, prompts, conversations.

No Qt here, and no heavy import at package import time: torch, sentence_transformers, lancedb,
pymupdf and docx are imported inside the functions that need them.
"""
