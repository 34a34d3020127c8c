"""The entry points: the only code that imports every feature."""
