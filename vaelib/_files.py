"""Files written whole or not at all: a temporary file beside the target, renamed into place."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_whole(path: Path):
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path`` in one
    step (os.replace), so an interrupted write leaves the previous file (or none), never half of one."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # mkstemp makes 0600; give the usual mode of a new file
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    try:  # make the rename itself durable (best effort: not every system can open a folder)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass
