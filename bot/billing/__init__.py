"""Billing: rules per service year as data tables, and the evaluator over one patient-month."""

from bot.billing.engine import (
    CONDITIONS_NEEDED,
    PROGRAMS,
    Blocker,
    CodeLine,
    ConsentEvent,
    Minutes,
    MonthFacts,
    MonthResult,
    NextThreshold,
    Policy,
    code_amount,
    evaluate,
    first_code_minutes,
)

__all__ = ["Blocker", "CodeLine", "ConsentEvent", "MonthFacts", "MonthResult", "Minutes", "NextThreshold", "Policy", "code_amount", "evaluate", "CONDITIONS_NEEDED", "PROGRAMS", "first_code_minutes"]
