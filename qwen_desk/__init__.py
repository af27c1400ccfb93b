"""Qwen Desk: private, offline chat with your documents, answered by a local Ollama model."""

__version__ = "0.1.0"
