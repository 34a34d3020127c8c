"""The trading rules as pure code and data (no database): rulebooks, price limits, statistics."""
