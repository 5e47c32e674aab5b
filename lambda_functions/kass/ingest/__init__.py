"""Ingestion: load documents (loaders), cut them into chunks (chunker), embed and index them."""
