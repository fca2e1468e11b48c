"""Scheduled jobs: APScheduler wiring, plain task functions and their run history (see README.md)."""
