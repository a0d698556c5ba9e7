"""Billing rules as data, one table per service year (cms-rules.md §2, §5, §6, §9).

A new year is a new table here, not new code in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Ladder:
    """A base code at `base_minutes`, then an add-on per further full `step` minutes."""

    family: str
    program: str
    base: str
    base_minutes: int
    addon: str | None
    step: int
    addon_cap: int | None  # None: no cap found (cms-rules U3); the engine's policy may set one
    tracks: tuple[str, ...]  # whose minutes count: practitioner and/or clinical_staff
    needs_complex_mdm: bool = False
    upper_minutes: int | None = None  # the code covers at most this many minutes (99470: 10-19)

    def units(self, minutes: int, cap: int | None) -> tuple[int, int]:
        """(base units, add-on units) for the minutes; full thresholds only, no rounding."""
        if minutes < self.base_minutes or (self.upper_minutes is not None and minutes > self.upper_minutes):
            return 0, 0
        if self.addon is None:
            return 1, 0
        extra = (minutes - self.base_minutes) // self.step
        return 1, extra if cap is None else min(extra, cap)

    def next_step(self, minutes: int, cap: int | None) -> tuple[str, int] | None:
        """The next code these minutes could reach and how many minutes it still needs."""
        if minutes < self.base_minutes:
            return self.base, self.base_minutes - minutes
        if self.addon is None or (self.upper_minutes is not None and minutes > self.upper_minutes):
            return None
        _, extra = self.units(minutes, cap)
        if cap is not None and extra >= cap:
            return None
        return self.addon, self.base_minutes + (extra + 1) * self.step - minutes


@dataclass(frozen=True)
class DeviceRung:
    """An RPM device supply code for a 30-day period with `min_days` to `max_days` data days."""

    code: str
    min_days: int
    max_days: int


@dataclass(frozen=True)
class DeviceRules:
    """RPM device codes over 30-day periods counted from the start of monitoring (not the calendar
    month): one supply code a period, the rung its data days fall in, and the set-up code once an
    episode, with the first period that has `setup_min_days` data days."""

    period_days: int
    supply: tuple[DeviceRung, ...]  # fewest days first; never two for one period
    setup: str
    setup_min_days: int

    def rung(self, data_days: int) -> DeviceRung | None:
        return next((r for r in self.supply if r.min_days <= data_days <= r.max_days), None)


# 2025: 99454 needs 16 of 30 days; 99453 goes with the first period that bills 99454.
DEVICES_2025 = DeviceRules(period_days=30, supply=(DeviceRung("99454", 16, 30),), setup="99453", setup_min_days=16)
# 2026 (CY2026 PFS final rule): 99445 for 2-15 days, 99454 for 16-30, never both for a period;
# 99453 may be billed once 2 days of data are in (docs/billing.md, "RPM device codes").
DEVICES_2026 = DeviceRules(period_days=30, supply=(DeviceRung("99445", 2, 15), DeviceRung("99454", 16, 30)), setup="99453", setup_min_days=2)
DEVICE_CODES = frozenset({"99453", "99454", "99445"})


@dataclass(frozen=True)
class YearRules:
    year: int
    conversion_factor: float
    amounts: dict[str, float]
    amounts_are_estimates: bool
    ccm: tuple[Ladder, ...]
    pcm: tuple[Ladder, ...]
    rpm: tuple[Ladder, ...]
    bhi: tuple[Ladder, ...]
    devices: DeviceRules = DEVICES_2025


CCM_STAFF = Ladder("ccm_staff", "CCM", "99490", 20, "99439", 20, 2, ("clinical_staff", "practitioner"))
CCM_PRACTITIONER = Ladder("ccm_practitioner", "CCM", "99491", 30, "99437", 30, 1, ("practitioner",))
CCM_COMPLEX = Ladder("ccm_complex", "CCM", "99487", 60, "99489", 30, None, ("clinical_staff", "practitioner"), needs_complex_mdm=True)
PCM_PRACTITIONER = Ladder("pcm_practitioner", "PCM", "99424", 30, "99425", 30, None, ("practitioner",))
PCM_STAFF = Ladder("pcm_staff", "PCM", "99426", 30, "99427", 30, None, ("clinical_staff", "practitioner"))
RPM_MANAGEMENT = Ladder("rpm_management", "RPM", "99457", 20, "99458", 20, None, ("clinical_staff", "practitioner"))
RPM_SHORT = Ladder("rpm_short", "RPM", "99470", 10, None, 0, None, ("clinical_staff", "practitioner"), upper_minutes=19)
# General BHI (cms-rules §7.1): 20+ minutes of clinical staff time a calendar month, directed by
# the billing practitioner, who may do the work too (T1); one unit, no add-on.
BHI_GENERAL = Ladder("bhi", "BHI", "99484", 20, None, 0, None, ("clinical_staff", "practitioner"))

# cms-rules §9.1: PPRRVU2025 non-facility totals x $32.3465, cross-checked to the cent (H).
AMOUNTS_2025 = {
    "99490": 60.49, "99439": 45.93, "99491": 82.16, "99437": 57.58, "99487": 131.65, "99489": 70.52,
    "99424": 80.87, "99425": 58.87, "99426": 61.78, "99427": 50.46, "99457": 47.87, "99458": 38.49,
    "99484": 53.05,
}  # fmt: skip

CF_2026 = 33.4009
TOTAL_RVU_2025 = {
    "99490": 1.87, "99439": 1.42, "99491": 2.54, "99437": 1.78, "99487": 4.07, "99489": 2.18,
    "99424": 2.50, "99425": 1.82, "99426": 1.91, "99427": 1.56, "99457": 1.48, "99458": 1.19,
}  # fmt: skip
# cms-rules §9.2: corroborated 2026 figures where there are any; the rest carry the 2025 RVUs at
# the 2026 conversion factor. All 2026 amounts are estimates until PPRRVU26 is loaded (U9).
AMOUNTS_2026 = {code: round(rvu * CF_2026, 2) for code, rvu in TOTAL_RVU_2025.items()}
AMOUNTS_2026.update({"99490": 66.13, "99439": 50.44, "99487": 144.29, "99489": 78.16, "99424": 87.84, "99425": 61.46, "99470": 26.00, "99484": 57.45})

# RPM device codes, national non-facility: 2025 from PPRRVU2025 (x $32.3465); 2026 estimates like
# the rest of that year's table (99445 valued as 99454) until the year's CMS file is imported.
DEVICE_AMOUNTS_2025 = {"99453": 19.73, "99454": 43.02}
DEVICE_AMOUNTS_2026 = {"99453": 21.71, "99454": 47.06, "99445": 47.06}

RULES: dict[int, YearRules] = {
    2025: YearRules(
        year=2025,
        conversion_factor=32.3465,
        amounts={**AMOUNTS_2025, **DEVICE_AMOUNTS_2025},
        amounts_are_estimates=False,
        ccm=(CCM_STAFF, CCM_PRACTITIONER, CCM_COMPLEX),
        pcm=(PCM_STAFF, PCM_PRACTITIONER),
        rpm=(RPM_MANAGEMENT,),
        bhi=(BHI_GENERAL,),
        devices=DEVICES_2025,
    ),
    2026: YearRules(
        year=2026,
        conversion_factor=CF_2026,
        amounts={**AMOUNTS_2026, **DEVICE_AMOUNTS_2026},
        amounts_are_estimates=True,
        ccm=(CCM_STAFF, CCM_PRACTITIONER, CCM_COMPLEX),
        pcm=(PCM_STAFF, PCM_PRACTITIONER),
        # 99470 covers 10-19 minutes and is never billed with 99457 (cms-rules §6.1).
        rpm=(RPM_MANAGEMENT, RPM_SHORT),
        bhi=(BHI_GENERAL,),
        devices=DEVICES_2026,
    ),
}


def rules_for(year: int) -> YearRules:
    """The table for a service year; a year after the newest known uses the newest table."""
    if year in RULES:
        return RULES[year]
    if year > max(RULES):
        # The newest thresholds and amounts, as that year's (so an imported fee schedule for the
        # year applies), and always an estimate until the year's own table or file is in.
        return replace(RULES[max(RULES)], year=year, amounts_are_estimates=True)
    raise ValueError(f"no billing rules for service year {year}; known years: {', '.join(map(str, sorted(RULES)))}")
