"""Scheduled jobs (APScheduler): what runs without anyone remembering to run it.

This feature holds what a job is and how one run is recorded (``jobs``: ``Job``,
``run_job``), the one-scheduler lock (``lock``) and the record of runs (``runs``, ``api``).
The jobs themselves belong to the features (each one's ``jobs.py``); the entry points gather
them (``carbon_market.entrypoints.jobs``) and run them in the deadline time zone
(``carbon_market.entrypoints.scheduling``, ``carbon-market scheduler run``). Every job is
safe to run twice (it acts only on what is due and not yet done), so a restart or a second
process by mistake does no harm. The scheduler imports no other feature.
"""
