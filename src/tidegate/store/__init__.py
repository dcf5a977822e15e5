"""The audit store: guard events and request records in SQLite or PostgreSQL."""
