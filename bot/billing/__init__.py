"""Billing: rules per service year as data tables, and the evaluator over one patient-month."""

from bot.billing.devices import DeviceOutlook, DevicePeriod, episode_periods, outlook, period_bounds
from bot.billing.engine import (
    CONDITIONS_NEEDED,
    PROGRAMS,
    Blocker,
    CodeLine,
    ConsentEvent,
    DeviceLine,
    Minutes,
    MonthFacts,
    MonthResult,
    NextThreshold,
    Policy,
    code_amount,
    evaluate,
    evaluate_devices,
    first_code_minutes,
)
from bot.billing.rules import DEVICE_CODES

__all__ = ["Blocker", "CodeLine", "ConsentEvent", "MonthFacts", "MonthResult", "Minutes", "NextThreshold", "Policy", "code_amount", "evaluate", "CONDITIONS_NEEDED", "PROGRAMS", "first_code_minutes",
           "DEVICE_CODES", "DeviceLine", "DeviceOutlook", "DevicePeriod", "episode_periods", "evaluate_devices", "outlook", "period_bounds"]
