"""The embedded default: everything on one machine, no cloud account, no network."""
