"""Every ORM model of the platform, imported in one place.

Alembic's ``env.py`` and the test fixtures import this module so that ``Base.metadata`` holds
the whole schema; new features add their models here.
"""

from allocation.models import AllocationPlan, AllocationResult
from carbon_market.audit.models import AuditEvent
from carbon_market.auth.models import ApiToken, User
from carbon_market.db import Base
from carbon_market.emitters.models import (
    District,
    Enterprise,
    EnterpriseStatusChange,
    Facility,
    Sector,
)
from carbon_market.ledger.models import Account
from carbon_market.mrv.models import EmissionFactor, EmissionFactorSet
from carbon_market.mrv.reports_models import EmissionReport, ReportStream
from carbon_market.trading.models import (
    ReferencePrice,
    Trade,
)
from finance.greenpower.models import (
    CertificateBlock,
    GreenClaim,
    GreenPlant,
    GreenTarget,
    GreenTrade,
)
from finance.projects.models import (
    Disbursement,
    Financing,
    Milestone,
    Project,
    ProjectStatusChange,
    ReductionReport,
    Subsector,
)

__all__ = [
    "Account",
    "AllocationPlan",
    "AllocationResult",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CertificateBlock",
    "Disbursement",
    "District",
    "EmissionFactor",
    "EmissionFactorSet",
    "EmissionReport",
    "Enterprise",
    "EnterpriseStatusChange",
    "Facility",
    "Financing",
    "GreenClaim",
    "GreenPlant",
    "GreenTarget",
    "GreenTrade",
    "Milestone",
    "Project",
    "ProjectStatusChange",
    "ReductionReport",
    "ReferencePrice",
    "ReportStream",
    "Sector",
    "Subsector",
    "Trade",
    "User",
]
