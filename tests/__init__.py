"""Tests (a package, so `tests.conftest` is ours, not the `tests` package textstat installs)."""
