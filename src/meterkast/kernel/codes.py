"""Code lists, in one place. Values are the stable strings stored and exchanged."""

from __future__ import annotations

from enum import StrEnum


class Product(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"


class ProfileCategory(StrEnum):
    """Dutch settlement profile categories (electricity E*, gas G*)."""

    E1A = "E1A"
    E1B = "E1B"
    E1C = "E1C"
    E2A = "E2A"
    E2B = "E2B"
    E3A = "E3A"
    E3B = "E3B"
    E3C = "E3C"
    E3D = "E3D"
    E4A = "E4A"
    G1A = "G1A"
    G2A = "G2A"
    G2C = "G2C"

    @property
    def product(self) -> Product:
        return Product.ELECTRICITY if self.value.startswith("E") else Product.GAS


class PhysicalStatus(StrEnum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    REMOVED = "removed"


class DeliveryDirection(StrEnum):
    """Offtake only, or offtake and feed-in (a production installation behind the meter)."""

    OFFTAKE = "offtake"
    BIDIRECTIONAL = "bidirectional"


class MeterKind(StrEnum):
    SMART = "smart"
    CONVENTIONAL = "conventional"


class ReadingChoice(StrEnum):
    """The customer's choice on remote reading (register activity 1.2)."""

    STANDARD = "standard"
    ADMINISTRATIVELY_OFF = "administratively_off"
    NO_SMART_METER = "no_smart_meter"


class InstallationKind(StrEnum):
    SOLAR_PV = "solar_pv"
    WIND = "wind"
    CHP = "chp"
    BATTERY = "battery"


class PartyRole(StrEnum):
    SUPPLIER = "supplier"
    THIRD_PARTY = "third_party"
    GRID_OPERATOR = "grid_operator"


class CustomerKind(StrEnum):
    PERSON = "person"
    BUSINESS = "business"


class ReadingSource(StrEnum):
    REMOTE = "remote"
    CUSTOMER = "customer"
    SWITCH = "switch"
    MOVE = "move"
    ESTIMATE = "estimate"
    CORRECTION = "correction"


class ReadingQuality(StrEnum):
    MEASURED = "measured"
    ESTIMATED = "estimated"
    CORRECTED = "corrected"


class MeterType(StrEnum):
    """Key-set type of a meter: an electricity meter, or a gas meter on its M-Bus."""

    ELECTRICITY = "electricity"
    GAS = "gas"


class KeyType(StrEnum):
    MASTER = "master"
    AUTHENTICATION = "authentication"
    ENCRYPTION = "encryption"  # unicast encryption key (gas: the M-Bus encryption key)


class KeyStatus(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class FrameRejection(StrEnum):
    """Why the head-end refused a secured frame (recorded as a security event)."""

    MALFORMED = "malformed"
    BAD_TAG = "bad_tag"  # authentication failed: tampered frame or wrong key
    WRONG_SYSTEM_TITLE = "wrong_system_title"
    REPLAY = "replay"  # invocation counter not strictly increasing
    UNKNOWN_METER = "unknown_meter"


class LegalBasis(StrEnum):
    """GDPR art. 6(1) grounds used by the processing register (see ``meterkast.register``)."""

    LEGAL_OBLIGATION = "legal_obligation"
    CONTRACT = "contract"
    LEGITIMATE_INTEREST = "legitimate_interest"
    CONSENT = "consent"


class Role(StrEnum):
    """The role a principal acts in; each role may name only its own register purposes."""

    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    THIRD_PARTY = "third_party"
    STAFF_SERVICE = "staff_service"
    STAFF_NETLOSS = "staff_netloss"
    STAFF_MARKET = "staff_market"
    STAFF_GRID = "staff_grid"
    PRIVACY_OFFICER = "privacy_officer"


class GrantScope(StrEnum):
    DAILY = "daily"
    INTERVAL = "interval"
    HISTORY = "history"


class GrantStatus(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    ENDED = "ended"  # the granting customer's contract at the connection ended


class MeterEventLog(StrEnum):
    """The DSMR event logs a meter keeps (ring buffers of 100, 30 and 30 entries)."""

    STANDARD = "standard"
    FRAUD = "fraud"
    COMMUNICATION = "communication"


class MeterEvent(StrEnum):
    """Events a simulated meter writes to its logs."""

    POWER_DOWN = "power_down"
    POWER_UP = "power_up"
    KEYS_INSTALLED = "keys_installed"
    TERMINAL_COVER_OPENED = "terminal_cover_opened"
    DECRYPTION_FAILURE = "decryption_failure"
    REPLAY_ATTEMPT = "replay_attempt"
    MALFORMED_REQUEST = "malformed_request"


class ReadOutcome(StrEnum):
    """What the head-end's last attempt at a meter came to."""

    STORED = "stored"
    NOTHING_TO_READ = "nothing_to_read"
    REJECTED = "rejected"  # the frame failed verification: a security event is recorded
    INVALID = "invalid"  # authentic but unusable content (wrong meter, days, falling registers)
    NO_RESPONSE = "no_response"


class AuditEvent(StrEnum):
    """What an audit log entry records."""

    ACCESS_DECISION = "access_decision"  # a policy decision, allowed or denied
    TOKEN_ISSUED = "token_issued"  # noqa: S105 - an event name: an operator issued a token
    SUBJECT_REQUEST = "subject_request"  # a step in handling a data-subject request
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an event name: an operator revoked a token
