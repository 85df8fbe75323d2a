"""Yearly key renewal, two-phase per meter and key type (authentication first, then encryption):

1. store the new key as NEW (wrapped under the master key);
2. transfer it to the meter, wrapped under the meter's own master key;
3. prove it: one secured exchange on a session with the new key;
4. only then NEW -> ACTIVE and the old one -> EXPIRED.

A crash anywhere leaves a NEW key; the next session or renewal run tries NEW, then ACTIVE, and
activates what the meter proves it has (``KeyService.settle``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from meterkast.kernel.clock import Clock
from meterkast.kernel.errors import DomainError
from meterkast.keys.api import MeterKeyPort
from meterkast.keys.domain import Age, MeterKeysLockedError, rotated_types
from meterkast.keys.service import KeyService

log = logging.getLogger(__name__)


class KeyRenewalError(DomainError):
    """A meter did not take or prove its new key."""

    code = "key-renewal"


@dataclass(slots=True)
class RotationReport:
    due: int = 0
    renewed: int = 0
    locked: int = 0
    failed: int = 0


class KeyRotation:
    def __init__(self, keys: KeyService, link: MeterKeyPort, clock: Clock) -> None:
        self._keys = keys
        self._link = link
        self._clock = clock

    def rotate(
        self, older_than: Age, on_meter: Callable[[int, int], None] | None = None
    ) -> RotationReport:
        """Renew every meter whose rotated keys are older than ``older_than`` (or pending);
        ``on_meter(done, total)`` reports progress."""
        cutoff = older_than.before(self._clock())
        report = RotationReport()
        due = self._keys.meters_due(cutoff)
        report.due = len(due)
        for meter_id in due:
            try:
                self.rotate_meter(meter_id, cutoff)
            except MeterKeysLockedError:
                report.locked += 1
            except Exception as error:  # one meter's failure must not stop the fleet's renewal
                report.failed += 1
                log.warning("meter %s: key renewal failed (%s)", meter_id, type(error).__name__)
            else:
                report.renewed += 1
            if on_meter is not None:
                on_meter(report.renewed + report.locked + report.failed, report.due)
        log.info(
            "key renewal: %d due, %d renewed, %d locked, %d failed",
            report.due,
            report.renewed,
            report.locked,
            report.failed,
        )
        return report

    def rotate_meter(self, meter_id: str, cutoff: datetime) -> None:
        keys, link = self._keys, self._link
        with keys.locked(meter_id):
            row = keys.load(meter_id)
            ring = keys.settle(row, link) if row.ring.pending_types() else row.ring
            for key_type in rotated_types(ring.meter_type):
                active = ring.active(key_type)
                fresh = active is not None and (active.activated_at or active.created_at) > cutoff
                new = ring.pending(key_type)
                if fresh and new is None:
                    continue
                if new is None:
                    ring, new = keys.store_new(ring, key_type)
                link.transfer_key(meter_id, key_type, keys.transfer_wrapped(ring, new))
                current = replace(row, ring=ring)
                if link.probe(meter_id, keys.session_with(current, {key_type: new})):
                    ring = keys.activate(ring, [key_type])
                elif link.probe(meter_id, keys.session_with(current, {})):
                    keys.withdraw(ring, key_type)
                    raise KeyRenewalError(f"meter {meter_id} refused its new {key_type} key")
                else:
                    raise KeyRenewalError(f"meter {meter_id} did not answer after a key transfer")
