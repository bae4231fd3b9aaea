"""Files and folders that hold a person's finances: created readable by the user only.

On the lowest floors, so that every floor (the parsed-YAML cache under the parsers included) can
create them the same way; importer.config.paths re-exports them.
"""

from __future__ import annotations

import os
from pathlib import Path

# What the tool writes holds the user's finances (the state, the log, error notes quoting
# statement lines): readable by the user only, never by the other accounts on the machine.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_folder(folder: Path) -> None:
    """Create `folder` (and missing parents) readable by the user only; an existing one is left as it is."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            continue  # made since we looked (another process): fine, it is theirs to keep
        os.chmod(path, PRIVATE_FOLDER)  # mkdir's mode is masked by the umask
