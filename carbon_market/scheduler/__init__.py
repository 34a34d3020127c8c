"""Scheduled jobs (APScheduler): what runs without anyone remembering to run it.

``jobs.py`` lists the jobs; ``runner.py`` puts them on a scheduler in the deadline time zone
(Asia/Shanghai). Run one scheduler process: ``carbon-market scheduler run``. Every job is
safe to run twice (it acts only on what is due and not yet done), so a restart or a second
process by mistake does no harm.
"""
