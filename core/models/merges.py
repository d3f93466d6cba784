"""重复件 merging: which case was merged into which master, and its undo (issue #10)."""
from __future__ import annotations
