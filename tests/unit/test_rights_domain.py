"""Data-subject requests: a one-month deadline, at most two more; closed stays closed."""

from __future__ import annotations

from datetime import date

import pytest

from meterkast.kernel.errors import ConflictError, InvalidValueError
from meterkast.rights.domain import RequestKind, RequestStatus, SubjectRequest, add_months


@pytest.mark.parametrize(
    ("received", "due"),
    [(date(2026, 1, 15), date(2026, 2, 15)), (date(2026, 1, 31), date(2026, 2, 28)),
     (date(2028, 1, 31), date(2028, 2, 29)), (date(2026, 12, 31), date(2027, 1, 31))],
)  # fmt: skip
def test_deadline_is_one_month_clamped_to_month_end(received: date, due: date) -> None:
    assert SubjectRequest.receive("r", "C00000001", RequestKind.ACCESS, received).deadline == due


def test_extension_needs_a_reason_and_stops_at_three_months() -> None:
    request = SubjectRequest.receive("r", "C00000001", RequestKind.ERASURE, date(2026, 3, 31))
    with pytest.raises(InvalidValueError):
        request.extend(1, " ")
    extended = request.extend(2, "many connections over many years")
    assert extended.deadline == date(2026, 6, 30)
    with pytest.raises(InvalidValueError):
        extended.extend(1, "more")


def test_state_machine_and_overdue() -> None:
    request = SubjectRequest.receive("r", "C00000001", RequestKind.ACCESS, date(2026, 1, 10))
    assert request.overdue(date(2026, 2, 11)) and not request.overdue(date(2026, 2, 10))
    done = request.start().complete(date(2026, 1, 20))
    assert done.status is RequestStatus.DONE and not done.overdue(date(2026, 5, 1))
    with pytest.raises(ConflictError):
        done.refuse(date(2026, 1, 21), "too late to refuse")
    assert add_months(date(2026, 8, 31), -6) == date(2026, 2, 28)
