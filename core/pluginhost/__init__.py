"""The plugin host: loading plugins through their entry points, checking them against the hook specs
(core/hooks.py), and calling them isolated and time-bounded."""
