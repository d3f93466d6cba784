"""The tamper-evident audit log: its hash chains, one per stream (`chain`), the walk that checks them
(`verify`), the retention job (`retention`), the auditors' listing and export (`listing`) and the
`minqing audit` commands (`cli`).

Records are written only by `core.changes.record_change`; this package seals them into the chain when their
transaction commits.
"""
