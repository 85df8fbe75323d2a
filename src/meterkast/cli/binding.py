"""Every CLI command declares the register activity it serves (or why it touches no personal data).

A test walks the command tree and fails on a command without an entry here. Commands that
read personal data take ``--purpose`` and accept only the activities listed for them.
"""

from __future__ import annotations

from meterkast.kernel.errors import InvalidValueError

NONE = "none"  # the command touches no personal data

# command path -> the activities it may be used for (the first is the default where one fits)
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": (NONE,),
    "generate": (NONE,),  # synthetic data only
    "area summary": (NONE,),  # counts, no person
    "parties list": (NONE,),  # market parties are organisations
    "connections list": ("3.8", "3.6", "5.1"),
    "connections show": ("3.8", "3.6", "5.1", "3.2"),
    "keys rotate": ("5.5",),  # smart meter management: key renewal, no personal data shown
    "keys status": (NONE,),  # counts and ages only
    "fleet build": ("5.5",),  # smart meter management: provisions meters and their keys
    "read": ("3.1", "3.4"),  # the nightly cycle: readings per connection for the market
    "audit verify": ("A.4",),  # the security and access audit log
    "audit checkpoint": ("A.4",),
    "token issue": ("A.4",),  # issuing credentials is audited under the same activity
    "token verify": ("A.4",),
    "token revoke": ("A.4",),  # the revocation is written to the same log
    "readings show": ("3.1", "3.4", "7.3"),  # operator tool: readings, billing data, net-loss
    "readings import": ("3.1",),  # manual readings passed by customers
    "purge": ("3.1",),  # retention of the readings register (24 months)
    "readings rebuild-serving": ("3.1",),  # re-seals stored readings, shows none
    "serve": ("A.1", "A.2", "A.3", "A.4", "A.5", "1.2", "1.4", "1.5", "1.6", "3.1", "3.4"),
    # serve: each route binds its own (API and portal tests), staff pages included
    "demo-access": ("A.4",),  # issues audited tokens and a sign-in code for the tour
    "dsr submit": ("A.5",),  # data-subject requests
    "dsr list": ("A.5",),
    "dsr export": ("A.5",),  # readings inside go through the customer's own access (A.1)
    "dsr withdraw-consent": ("A.5",),
    "dsr rectify": ("A.5",),
    "dsr erase": ("A.5",),
    "dsr object": ("A.5",),
    "register export": (NONE,),  # the register describes processing, it holds no person
    "register list": (NONE,),
    "register show": (NONE,),
    "portal code": ("A.1",),  # a sign-in code so the customer can see their own data
    "portal client add": (NONE,),  # registers an organisation's app
    "portal staff-code": ("A.4",),  # a staff credential: audited like issuing a token
    "portal case open": ("1.4", "1.5", "1.6"),  # the case's purpose is checked against these
    "portal case close": ("1.4", "1.5", "1.6"),
}


def purposes_of(command: str) -> tuple[str, ...]:
    return COMMANDS[command]


def require_purpose(command: str, purpose: str | None) -> str:
    """The purpose named for a personal-data command, checked against its binding."""
    allowed = COMMANDS[command]
    if purpose is None:
        raise InvalidValueError(f"`{command}` needs --purpose, one of: {', '.join(allowed)}")
    if purpose not in allowed:
        raise InvalidValueError(
            f"purpose {purpose} is not one `{command}` serves; use one of: {', '.join(allowed)}"
        )
    return purpose
