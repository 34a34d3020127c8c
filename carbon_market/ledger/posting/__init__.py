"""Posting units: the engine's hot path and the hash chains over what it posts."""
