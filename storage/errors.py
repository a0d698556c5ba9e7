"""Refusals of the write path: typed, so every door can explain them in its own words.

`reason` is a stable code; str() is a sentence for a person.
"""

from __future__ import annotations


class LedgerError(Exception):
    """A refused change. `reason` is a stable code; str() is a sentence for a person."""

    reason = "refused"


class ClosedMonth(LedgerError):
    reason = "closed_month"


class FutureDate(LedgerError):
    reason = "future_date"


class UnknownPatient(LedgerError):
    reason = "unknown_patient"


class InactivePatient(LedgerError):
    reason = "inactive_patient"


class UnknownStaff(LedgerError):
    reason = "unknown_staff"


class InactiveStaff(LedgerError):
    reason = "inactive_staff"


class MinutesOutOfRange(LedgerError):
    reason = "minutes_out_of_range"


class InvalidValue(LedgerError):
    reason = "invalid_value"


class NotAllowed(LedgerError):
    reason = "not_allowed"


class KeyReused(LedgerError):
    """The idempotency key of a stored message came with a different text."""

    reason = "key_reused"
