"""Billing: rules per service year as data tables, and the evaluator over one patient-month."""

from bot.billing.engine import (
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
)

__all__ = ["Blocker", "CodeLine", "ConsentEvent", "MonthFacts", "MonthResult", "Minutes", "NextThreshold", "Policy", "code_amount", "evaluate"]
