"""Core layer: document parsers (PDF, DOCX, TXT/Markdown) run in a sandboxed child process."""
