"""The audit log's latest signed checkpoint, also kept as a file beside the instance keys.

Someone who can write the database but not the instance folder could cut the log's tail and
delete the checkpoints above the cut; the copy outside the database still counts them.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from pathlib import Path

from meterkast.access.audit import Checkpoint, iso_utc
from meterkast.kernel.errors import DomainError


class AnchorError(DomainError):
    """The anchor file exists but cannot be read as a checkpoint."""

    code = "audit-anchor"


def read_anchor(path: Path) -> Checkpoint | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return Checkpoint(
            int(data["seq"]),
            str(data["hash"]),
            datetime.fromisoformat(data["at"]),
            str(data["key_id"]),
            str(data["signature"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise AnchorError(f"audit anchor {path} is unreadable") from None


def write_anchor(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the anchor atomically, never with an older checkpoint than it holds."""
    current = read_anchor(path)
    if current is not None and current.seq >= checkpoint.seq:
        return
    body = {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "at": iso_utc(checkpoint.at),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    temp.write_text(json.dumps(body, indent=2) + "\n")
    temp.replace(path)
