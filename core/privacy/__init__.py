"""Residents' personal data: masking for every page, export, log line and API answer, the audited reveal of one
value, and the ID-number and credit-code checks."""
