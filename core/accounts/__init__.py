"""Accounts, roles and signing in: passwords and their policy, sessions, second factors, one-time codes, API keys,
and the admin's account management."""
