"""Which enterprise an enterprise user belongs to: a question the kernel asks the registry.

Users and their tenancy are the kernel's (an enterprise user sees its own enterprise's data
only); the enterprises themselves are the registry's (``carbon_market.emitters``), a feature
above the kernel. Creating an enterprise user names the enterprise by its credit code, and
the registry answers which enterprise that is once the features are wired
(``carbon_market.kernel.events``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from carbon_market.kernel.events import Hook

#: ``(session, normalised credit code) -> enterprise id``, or None for no such enterprise.
enterprise_by_credit_code: Hook[Callable[[Session, str], int | None]] = Hook(
    "the enterprise with a credit code"
)
