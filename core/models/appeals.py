"""申诉 appeals of cases before a period's rankings, and the published rankings (issue #10)."""
from __future__ import annotations
