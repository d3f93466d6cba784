"""The domain model. Import models from here: `from minqing.core.models import Case, Grid`."""
from . import appeals as _appeals, cohandling as _cohandling, merges as _merges  # noqa: F401  (their tables)
from .apikeys import ApiKey
from .base import Base, UTCDateTime, utcnow
from .basedata import Address, House, Household, KeyPerson, KeyPlace, Resident, Unit, Visit
from .builder import ThemeDraft
from .cases import Attachment, Case, CaseEvent, CaseSource, Urgency
from .geo import Grid, GridColour, GridLevel, GridMember, MemberRole, Region, RegionLevel
from .idempotency import IdempotencyKey
from .org import Account, Department, Person, Role, RoleGrant
from .publications import Publication, VerificationCode  # noqa: F401  (小兰帮办)
from .signin import AccountSession
from .system import AuditChain, AuditRecord, ChangeCounter, PluginState, Setting
from .themes import ThemeRecord, ThemeVersion
from .warnings import WarningAction
from .workflow import CaseMilestone, Notification, Supervision, SweepMark

__all__ = [
    "Account", "AccountSession", "Address", "ApiKey", "Attachment", "AuditChain", "AuditRecord", "Base", "Case", "CaseEvent", "CaseMilestone", "CaseSource",
    "ChangeCounter", "Department", "Grid", "GridColour", "GridLevel", "GridMember", "House", "Household",
    "IdempotencyKey", "KeyPerson", "KeyPlace", "MemberRole", "Notification", "Person", "PluginState", "Region", "RegionLevel",
    "Resident", "Role", "RoleGrant", "Setting", "Supervision", "SweepMark", "ThemeDraft", "ThemeRecord", "ThemeVersion", "Unit",
    "Urgency", "UTCDateTime", "utcnow", "Visit", "WarningAction",
]
