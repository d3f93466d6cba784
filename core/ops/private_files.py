"""Files and directories that hold residents' personal data, readable by the platform's own user only.

The live SQLite database, uploaded photos, restored databases, backups and exports were created with the
process umask (typically 0644 files, 0755 directories): readable by every account on the server. Each is created
through these helpers instead, 0600 for files and 0700 for directories, whatever the umask. An existing directory
is left as it is (an operator may have shared it on purpose); files are always narrowed.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_directory(path: Path) -> Path:
    """`path`, created 0700 when missing (its missing parents take the umask's mode, as before)."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
        path.chmod(DIRECTORY_MODE)   # mkdir's mode is reduced by the umask, never widened: state it exactly
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a new file (never an existing one) created 0600."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def create_private(path: Path) -> None:
    """Make sure `path` exists and is 0600, before another library (SQLite) creates or opens it: SQLite gives its
    -wal and -shm files the mode of the database file."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)
    os.chmod(path, FILE_MODE)


def private_sqlite_file(path: Path) -> None:
    """A SQLite database file (created if missing) and any -wal / -shm beside it, 0600: call before the first
    connection. SQLite creates the -wal and -shm files with the mode of the database file."""
    create_private(path)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.chmod(companion, FILE_MODE)


def make_private(stream) -> None:
    """Narrow the file behind an open stream to 0600; a stream without a file (BytesIO, an HTTP response) is left."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return
    os.fchmod(descriptor, FILE_MODE)
