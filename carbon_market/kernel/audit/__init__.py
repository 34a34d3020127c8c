"""The audit log: an append-only record of every change of state.

Each record says who (actor), when, what (``action``, an ``entity:subject:action``-style tag),
on which entity, the state before and after, and through which request. The database refuses
UPDATE and DELETE on the table (triggers created by the migration), so not even a bug in the
application can rewrite history.
"""
