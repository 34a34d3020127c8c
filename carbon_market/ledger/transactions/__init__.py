"""Ledger transactions: requested, decided (four eyes), delayed, reversed, expired."""
