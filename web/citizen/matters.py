"""我的帮办实事: the practical matters a citizen may follow on 小兰帮办 — those raised from a report they made
themselves, and those that name them (the resident's phone is the phone they signed in with). The rule is
`core.grassroots.practical_matters.for_citizen`'s; staff names are left out (工作人员)."""
from __future__ import annotations

from flask import render_template

from minqing.core.grassroots import practical_matters as matters
from minqing.core.models import Account, Role

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint


@blueprint.get("/matters")
@roles_required(Role.CITIZEN)
def my_matters():
    account = db().get(Account, viewer().account_id)
    return render_template("citizen/matters.html", matters=matters.for_citizen(db(), account),
                           statuses=matters.STATUS_TITLES)
