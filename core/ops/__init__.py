"""Running a city: backups (and the nightly one), exports, statistics, and what the command line says when something
goes wrong."""
