"""主办/协办 joint handling tasks, 转办 transfers and regions' 兜底 fallback departments (issue #10)."""
from __future__ import annotations
