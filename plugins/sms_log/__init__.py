"""Demo SMS gateway: "delivers" text messages by writing them to the log.

A real installation replaces this plugin with one that hands the message to its SMS provider (and disables
this one: ``minqing plugins disable sms_log``). The log line carries what the citizen needs (the message, so
the verification code of the demo can be read from the log) but masks the phone number.
"""
from __future__ import annotations

import logging

from minqing.core.hooks import hookimpl
from minqing.core.privacy.masking import mask_phone

MINQING_TITLE = "演示短信网关"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "把短信写入日志的演示网关（不真正发送）。"

log = logging.getLogger("minqing.sms")


@hookimpl
def deliver_notification(notification):
    """Take every SMS; leave other channels to other plugins."""
    if notification.get("channel") != "sms":
        return None
    # Logged as a warning so that the demo's default log level shows the code.
    log.warning("短信 → %s：%s", mask_phone(str(notification.get("recipient", ""))), notification.get("body", ""))
    return True
