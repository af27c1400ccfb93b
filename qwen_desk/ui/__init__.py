"""UI layer: widgets, dialogs, delegates, the source viewer and translated error messages."""
