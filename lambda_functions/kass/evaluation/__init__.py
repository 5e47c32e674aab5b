"""Retrieval evaluation on BEIR-format datasets (`kass eval`)."""
