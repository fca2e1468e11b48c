"""Benchmarks: `.venv/bin/python -m bench.<name>` (add --full for the issue's sizes)."""
