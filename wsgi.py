"""WSGI entry point: ``gunicorn wsgi:app``."""

from carbon_market import create_app

app = create_app()
