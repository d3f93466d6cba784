"""小兰民情: the management dashboard of leaders and command centres (counts, trends, indicators, warnings)."""
from flask import Blueprint

blueprint = Blueprint("manage", __name__, url_prefix="/manage")

from . import dashboard, rankings, warnings  # noqa: E402,F401  (routes register on import)
from . import key_grids  # noqa: E402,F401  (重点网格, 帮办实事台账)
from . import schemes  # noqa: E402,F401  (考核方案)
from . import briefs  # noqa: E402,F401  (研判简报)
