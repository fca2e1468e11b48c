"""Full-text search over hits: one query language, two backends (embedded SQLite FTS5, Elasticsearch)."""
