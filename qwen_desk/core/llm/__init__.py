"""Core layer: language model back-ends (Ollama, OpenAI-compatible) behind one interface."""
