"""Registry accounts: their numbers, opening, lifecycle and trusted lists."""
