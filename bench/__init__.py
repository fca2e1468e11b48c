"""Benchmarks: `.venv/bin/python -m bench.<name>` (add --full for the full target sizes)."""
