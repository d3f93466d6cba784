"""The domain model. Import models from here: `from minqing.core.models import Case, Grid`."""
from .apikeys import ApiKey
from .appeals import CaseAppeal, RankingPublication
from .base import Base, UTCDateTime, utcnow
from .briefs import Brief
from .basedata import (Address, CadreLastVisit, CadreLastVisitCount, CadreVisitCount, CadreVisitMark, House,
                       Household, HouseholdCount, KeyPerson, KeyPlace, Resident, Unit, Visit)
from .builder import ThemeDraft
from .cadres import POST_TITLES, CadreGrid, CadrePost, Post  # noqa: F401  (干部, 走村不漏户)
from .cases import Attachment, Case, CaseEvent, CaseSource, Urgency
from .channels import ChannelUpdate
from .cohandling import CoHandlingStatus, CoHandlingTask, RegionFallback
from .geo import Grid, GridColour, GridLevel, GridMember, GridOutline, MemberRole, Region, RegionLevel
from .idempotency import IdempotencyKey
from .keygrids import KeyGrid, MatterStatus, PracticalMatter  # noqa: F401  (重点网格, 帮办实事)
from .merges import CaseMerge
from .outbox import PhoneOutbox
from .org import Account, Department, Person, Role, RoleGrant
from .schemes import AssessmentScheme
from .publications import Publication, PublicationEvent, VerificationCode  # noqa: F401  (小兰帮办)
from .signin import AccountSession, PasswordCode, SigninThrottle
from .system import AuditChain, AuditRecord, ChangeCounter, PluginState, Setting
from .themes import ThemeRecord, ThemeVersion
from .warnings import StoredWarning, StoredWarningFigure, WarningAction, WarningRuleRun
from .workflow import CaseMilestone, Notification, NotificationCursor, NotificationRead, Supervision, SweepMark

__all__ = [
    "Account", "AccountSession", "AssessmentScheme", "Address", "ApiKey", "Attachment", "AuditChain", "AuditRecord", "Base", "Brief", "Case",
    "CaseAppeal", "CaseEvent", "CaseMerge", "CaseMilestone", "CaseSource", "ChannelUpdate", "CoHandlingStatus", "CoHandlingTask",
    "ChangeCounter", "Department", "Grid", "GridColour", "GridLevel", "GridMember", "GridOutline", "House", "Household", "HouseholdCount", "CadreLastVisit", "CadreLastVisitCount", "CadreVisitCount", "CadreVisitMark",
    "IdempotencyKey", "KeyPerson", "KeyPlace", "MemberRole", "Notification", "NotificationCursor", "NotificationRead", "PasswordCode", "Person", "PhoneOutbox", "PluginState", "RankingPublication", "Region", "RegionFallback", "RegionLevel",
    "Resident", "Role", "RoleGrant", "Setting", "SigninThrottle", "Supervision", "SweepMark", "ThemeDraft", "ThemeRecord", "ThemeVersion", "Unit",
    "Urgency", "UTCDateTime", "utcnow", "Visit", "StoredWarning", "StoredWarningFigure", "WarningAction", "WarningRuleRun",
]
