"""Widgets of the app, each carrying its own DEFAULT_CSS."""
