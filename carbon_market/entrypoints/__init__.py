"""The entry points: the only code that imports every feature.

``features.py`` lists the features in their order and reads their manifests; from them
``app.py`` builds the Flask app (every feature's blueprints, the web UI, health probes),
``cli/`` the ``carbon-market`` command, ``jobs.py`` the job registry that ``scheduling.py``
runs, and ``models.py`` maps every table for Alembic and the tests. ``server.py`` runs the
app under gunicorn. Every entry point wires the features to each other's events before its
first unit of work (``features.wire``).
"""
