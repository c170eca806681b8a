"""CLI fixtures: `cli` and `german_gbt` are shared from tests/conftest.py."""
