"""小兰网格: the work end of grid workers, command centres and departments."""
from flask import Blueprint

blueprint = Blueprint("work", __name__, url_prefix="/work")

from . import appeals, attachments, case_page, inbox, my_grid, report, reveal, suggestions  # noqa: E402,F401  (routes register on import)
from . import joint  # noqa: E402,F401  (协同处置)
from . import duplicates  # noqa: E402,F401  (重复件)
