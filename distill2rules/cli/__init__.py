"""Command-line interface (a thin face over the library API)."""
