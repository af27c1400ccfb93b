"""Test support: the Ollama stand-in server and helpers shared by tests and benchmarks."""
