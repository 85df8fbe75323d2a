"""The crypto-server's key-change port (``keys.api.MeterKeyPort``) over the simulated fleet.

A transferred key arrives wrapped (RFC 3394) under the device's current master key; the meter
unwraps it itself and switches at once, its invocation counters carrying on. The meter's state
is sealed back after every operation, as a real meter writes its key store straight away, unless
a head-end run holds the link open: then the same in-memory meters serve both, and the run
seals them when it closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from meterkast.dlms import DlmsError, xdlms
from meterkast.fleet.meter import SimulatedMeter
from meterkast.fleet.service import FleetService, MeterSilentError
from meterkast.kernel.codes import KeyType
from meterkast.kernel.errors import DomainError
from meterkast.keys.api import FrameRejectedError, MeterSession

PROBE_INVOKE_ID = 2


class KeyTransferRefusedError(DomainError):
    """The meter could not take the key (not wrapped under its master key, or no such key)."""

    code = "key-transfer-refused"


class FleetKeyPort:
    """Implements :class:`meterkast.keys.api.MeterKeyPort` for the simulated meters."""

    def __init__(self, fleet: FleetService) -> None:
        self._fleet = fleet

    def __repr__(self) -> str:
        return "FleetKeyPort()"

    @contextmanager
    def _device(self, meter_id: str) -> Iterator[tuple[SimulatedMeter, bool]]:
        """The meter (E meter, or the E meter carrying gas meter ``meter_id``) and whether the
        device addressed is the gas meter."""
        fleet = self._fleet
        host = fleet.host_of(meter_id)
        if host is None:
            raise MeterSilentError(f"no meter {meter_id} on the link")
        held = fleet.active
        if held is not None and host in held.meters:
            held.touched.add(host)
            yield held.meters[host], host != meter_id
            return
        with fleet.held():
            meter = SimulatedMeter(fleet.state_of(host))
            yield meter, host != meter_id
            fleet.save_meters([meter])

    def transfer_key(self, meter_id: str, key_type: KeyType, wrapped: bytes) -> None:
        with self._device(meter_id) as (meter, gas):
            try:
                meter.install_key(gas, key_type, wrapped, self._fleet.clock())
            except DlmsError:
                raise KeyTransferRefusedError(
                    f"meter {meter_id} refused a {key_type} key transfer"
                ) from None

    def probe(self, meter_id: str, session: MeterSession) -> bool:
        """Ask the device for its identifier through ``session``; True when the answer
        verifies and names ``meter_id``."""
        with self._device(meter_id) as (meter, gas):
            attribute = xdlms.GAS_EQUIPMENT_ID if gas else xdlms.EQUIPMENT_ID
            request = session.protect(
                xdlms.encode_get_request(PROBE_INVOKE_ID, [xdlms.GetItem(attribute)])
            )
            now = self._fleet.clock()
            answer = meter.answer_gas(request, now) if gas else meter.answer(request, now)
            if answer is None:
                return False
            try:
                plaintext = session.unprotect(answer)
                invoke_id, results = xdlms.decode_get_response(plaintext)
            except (FrameRejectedError, DlmsError):
                return False
            return (invoke_id, results) == (PROBE_INVOKE_ID, [meter_id.encode("ascii")])
