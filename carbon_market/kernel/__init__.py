"""The kernel: what every feature stands on, and nothing that knows a feature.

Its parts, from the ground up (the import-linter contract "Kernel: ..." in ``pyproject.toml``
keeps them in this order):

* values and settings: ``config`` (the environment, read once), ``clock``, ``types``
  (exact decimals, money in fen, UTC times), ``text``, ``errors`` (the one exception tree),
  ``events`` (events and hooks: how a lower feature sets off work in a higher one),
  ``features`` (the manifest type), ``schemas``, ``pagination``, ``csv_export``, ``rawsql``
  (the raw cursor of the bulk paths), ``migrate``;
* ``db``: the engine, sessions, the unit of work (``transactional``, ``each_in_own_unit``);
  ``access/``: the Actor and the one authorization table;
* ``http`` (the API's plumbing: strict blueprints, problem+json, request ids, the request's
  session and actor), ``tabular`` (reading import files), ``problems`` (the catalogue);
* ``audit/`` (the append-only audit log), then ``auth/`` (users, tokens, logins), whose
  services record to it;
* ``cli`` (the commands' plumbing: sessions, ``--as``, one-line errors).

Nothing here imports a feature; where the kernel needs an answer only a feature has (which
enterprise a credit code names), it declares a hook the feature answers (``events.Hook``).
"""
