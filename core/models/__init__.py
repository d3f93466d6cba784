"""The domain model. Import models from here: `from minqing.core.models import Case, Grid`."""
from .apikeys import ApiKey
from .base import Base, UTCDateTime, utcnow
from .basedata import Address, House, Household, KeyPerson, KeyPlace, Resident, Unit, Visit
from .cases import Attachment, Case, CaseEvent, CaseSource, Urgency
from .geo import Grid, GridColour, GridLevel, GridMember, MemberRole, Region, RegionLevel
from .idempotency import IdempotencyKey
from .org import Account, Department, Person, Role, RoleGrant
from .publications import Publication, VerificationCode  # noqa: F401  (小兰帮办)
from .system import AuditRecord, ChangeCounter, PluginState, Setting
from .themes import ThemeRecord, ThemeVersion
from .workflow import CaseMilestone, Notification, Supervision, SweepMark

__all__ = [
    "Account", "Address", "ApiKey", "Attachment", "AuditRecord", "Base", "Case", "CaseEvent", "CaseMilestone", "CaseSource",
    "ChangeCounter", "Department", "Grid", "GridColour", "GridLevel", "GridMember", "House", "Household",
    "IdempotencyKey", "KeyPerson", "KeyPlace", "MemberRole", "Notification", "Person", "PluginState", "Region", "RegionLevel",
    "Resident", "Role", "RoleGrant", "Setting", "Supervision", "SweepMark", "ThemeRecord", "ThemeVersion", "Unit",
    "Urgency", "UTCDateTime", "utcnow", "Visit",
]
