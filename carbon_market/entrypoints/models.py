"""Every ORM model of the platform, imported in one place.

Alembic's ``env.py`` and the test fixtures import this module so that ``Base.metadata`` holds
the whole schema; new features add their models here.
"""

from allocation.models import (
    AllocationAdjustment,
    AllocationPlan,
    AllocationResult,
    Auction,
    AuctionBid,
)
from carbon_market.compliance.models import (
    ComplianceExemption,
    ComplianceExtension,
    CompliancePenalty,
    ComplianceStatus,
    ComplianceSurrender,
    ComplianceYear,
)
from carbon_market.emitters.models import (
    District,
    Enterprise,
    EnterpriseStatusChange,
    Facility,
    Sector,
)
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth.models import ApiToken, User
from carbon_market.kernel.db import Base
from carbon_market.ledger.models import Account
from carbon_market.mrv.factors.models import EmissionFactor, EmissionFactorSet
from carbon_market.mrv.reports.models import EmissionReport, ReportFacility, ReportStream
from carbon_market.notifications.models import Notification
from carbon_market.scheduler.models import JobRun, SchedulerLease
from carbon_market.trading.models import ReferencePrice, Trade
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
    "AllocationAdjustment",
    "AllocationPlan",
    "AllocationResult",
    "ApiToken",
    "Auction",
    "AuctionBid",
    "AuditEvent",
    "Base",
    "CertificateBlock",
    "ComplianceExemption",
    "ComplianceExtension",
    "CompliancePenalty",
    "ComplianceStatus",
    "ComplianceSurrender",
    "ComplianceYear",
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
    "JobRun",
    "Milestone",
    "Notification",
    "Project",
    "ProjectStatusChange",
    "ReductionReport",
    "ReferencePrice",
    "ReportFacility",
    "ReportStream",
    "SchedulerLease",
    "Sector",
    "Subsector",
    "Trade",
    "User",
]
