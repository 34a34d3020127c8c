"""The kernel: what every feature stands on, and nothing that knows a feature."""
