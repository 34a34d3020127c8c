"""The job registry: every feature's scheduled jobs, gathered from the manifests.

The scheduler (``scheduling.py``) runs them on their triggers; ``carbon-market jobs`` lists
them and runs one by hand. Jobs are listed in feature order, each feature's in its own.
"""

from __future__ import annotations

from carbon_market.entrypoints.features import manifests
from carbon_market.kernel.features import resolve
from carbon_market.scheduler.jobs import Job


def _gather() -> tuple[Job, ...]:
    jobs: list[Job] = []
    for feature in manifests():
        if feature.jobs is not None:
            jobs.extend(resolve(feature.jobs))
    names = [job.name for job in jobs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # a second job of one name would be unreachable by `jobs run NAME`
        raise RuntimeError(f"job names used twice: {', '.join(repeated)}")
    return tuple(jobs)


#: Every job of the platform.
JOBS: tuple[Job, ...] = _gather()


def find_job(name: str) -> Job:
    """The job named ``name``; KeyError listing the known names otherwise."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(f"no job {name!r}; jobs: {', '.join(j.name for j in JOBS)}")
