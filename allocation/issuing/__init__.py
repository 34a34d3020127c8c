"""Issuing an approved plan through the ledger: at once, or as pre-allocation and true-up."""
