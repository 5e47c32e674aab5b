"""Retrieval: hybrid search use case, filters and score fusion."""
