"""The all-or-nothing intake of the exchange's end-of-day trade file."""
