"""Adapters: the ports implemented for AWS (`aws/`) and for the embedded default (`local/`)."""
