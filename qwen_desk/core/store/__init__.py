"""Core layer: the knowledge base (LanceDB): collections, documents, chunks, hybrid search.

``schema`` holds the table layout and migrations, ``search`` the retrieval legs and their fusion,
``knowledge`` the ``KnowledgeStore`` itself. lancedb and pyarrow are imported lazily.
"""

from __future__ import annotations

from qwen_desk.core.store.knowledge import KnowledgeStore

__all__ = ["KnowledgeStore"]
