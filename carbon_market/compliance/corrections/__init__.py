"""The corrections cascade: what follows when a corrected report version is approved."""
