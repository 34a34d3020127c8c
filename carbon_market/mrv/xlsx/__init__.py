"""The Excel round trip of emission reports: a template to fill in, an upload to read."""
