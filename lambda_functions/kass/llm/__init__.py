"""Answerer tiers behind the `Answerer` port: extractive (no model) and chat-model wrappers."""
