"""Official amounts from CMS's PPRRVU file: read by the header's names, priced to the cent,
replaced per year and setting, audited, and every bad input refused with one line and nothing stored.

tests/data/PPRRVU_sample.csv is a few rows in the file's real layout (title lines, a header split
over two rows, a code with 26 and TC lines, a code we do not bill); its RVUs are made up."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import Database
from storage.errors import InvalidValue, LedgerError, NotAllowed
from storage.fee_schedules import RelativeValues, import_fee_schedule, official_amounts, read_rvu_file, stored_schedules, unit_amount
from storage.models import AuditEvent, FeeScheduleAmount
from tests.conftest import Roster

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "PPRRVU_sample.csv"
CF_2026 = "33.4009"

# Worked by hand from the sample's RVUs: (work + PE + MP) x 33.4009, rounded half up to the cent.
NATIONAL_NON_FACILITY = {
    "99490": 62.46,  # (1.00 + 0.81 + 0.06) = 1.87 x 33.4009 = 62.459683
    "99439": 47.43,  # (0.70 + 0.67 + 0.05) = 1.42 x 33.4009 = 47.429278
    "99491": 84.84,  # (1.50 + 0.94 + 0.10) = 2.54 x 33.4009 = 84.838286
    "99457": 49.43,  # (0.61 + 0.83 + 0.04) = 1.48 x 33.4009 = 49.433332 (not the 26 or TC line)
    "99470": 25.05,  # (0.31 + 0.42 + 0.02) = 0.75 x 33.4009 = 25.050675
}
NATIONAL_FACILITY = {
    "99490": 49.10,  # (1.00 + 0.41 + 0.06) = 1.47 x 33.4009 = 49.099323
    "99439": 35.40,  # (0.70 + 0.31 + 0.05) = 1.06 x 33.4009 = 35.404954
    "99491": 73.82,  # (1.50 + 0.61 + 0.10) = 2.21 x 33.4009 = 73.815989
    "99457": 30.06,  # (0.61 + 0.25 + 0.04) = 0.90 x 33.4009 = 30.060810
    "99470": 15.36,  # (0.31 + 0.13 + 0.02) = 0.46 x 33.4009 = 15.364414
}
# A locality: GPCI work 1.017, PE 1.134, MP 0.581, non-facility.
LOCALITY = {
    "99490": 65.81,  # 1.00x1.017 + 0.81x1.134 + 0.06x0.581 = 1.970400 x 33.4009 = 65.813133
    "99439": 50.13,  # 0.70x1.017 + 0.67x1.134 + 0.05x0.581 = 1.500730 x 33.4009 = 50.125733
    "99491": 88.50,  # 1.50x1.017 + 0.94x1.134 + 0.10x0.581 = 2.649560 x 33.4009 = 88.497689
    "99457": 52.93,  # 0.61x1.017 + 0.83x1.134 + 0.04x0.581 = 1.584790 x 33.4009 = 52.933413
    "99470": 26.83,  # 0.31x1.017 + 0.42x1.134 + 0.02x0.581 = 0.803170 x 33.4009 = 26.826601
}


def stored(session: Session, setting: str = "non_facility") -> dict[int, dict[str, float]]:
    session.expire_all()
    return official_amounts(session, setting)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def imports_audited(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "fee_schedule.import")) or 0


def run_import(db: Database, path: Path = SAMPLE, **options: object) -> object:
    options = {"year": 2026, "conversion_factor": CF_2026, **options}
    with db.transaction() as s:
        return import_fee_schedule(s, path, **options)  # type: ignore[arg-type]


def test_national_non_facility_amounts_to_the_cent(db: Database, session: Session) -> None:
    done = run_import(db)
    assert done.amounts == NATIONAL_NON_FACILITY  # type: ignore[attr-defined]
    assert stored(session) == {2026: NATIONAL_NON_FACILITY}
    row = session.scalars(select(FeeScheduleAmount).where(FeeScheduleAmount.code == "99490")).one()
    assert (row.year, row.setting, row.conversion_factor, row.gpci, row.source, row.imported_by_id) == (2026, "non_facility", 33.4009, None, "PPRRVU_sample.csv", None)
    assert "99213" not in stored(session)[2026]  # a code we do not bill is not kept


def test_facility_amounts_use_the_facility_pe_rvu(db: Database, session: Session) -> None:
    run_import(db, setting="facility")
    assert stored(session, "facility") == {2026: NATIONAL_FACILITY}
    assert stored(session, "non_facility") == {}


def test_a_gpci_triple_prices_a_locality(db: Database, session: Session) -> None:
    run_import(db, gpci="1.017, 1.134, 0.581")
    assert stored(session) == {2026: LOCALITY}
    assert session.scalars(select(FeeScheduleAmount.gpci)).first() == "1.017,1.134,0.581"


def test_rounding_is_half_up_on_exact_decimals() -> None:
    # 1.87 x 2.5 = 4.675 exactly; binary floating point would round it down to 4.67.
    assert unit_amount(RelativeValues(Decimal("1.00"), Decimal("0.81"), Decimal("0.06")), Decimal("2.5")) == 4.68


def test_the_header_is_found_by_its_names_in_one_row_too(tmp_path: Path) -> None:
    """A header on one row, other columns around it, more title lines: found by names, not a line number."""
    path = tmp_path / "one_row.csv"
    path.write_text(
        "PPRRVU test\nanother title line\n\n"
        "HCPCS,MOD,DESCRIPTION,STATUS CODE,WORK RVU,NON-FAC PE RVU,NON-FAC NA INDICATOR,FACILITY PE RVU,FACILITY NA INDICATOR,MP RVU,NON-FACILITY TOTAL,FACILITY TOTAL,CONV FACTOR\n"
        "99490,,ccm,A,1.00,0.81,,0.41,,0.06,1.87,1.47,\n"
        "99490,53,ccm,A,9.00,9.00,,9.00,,9.00,27.00,27.00,\n",
        encoding="utf-8",
    )
    rvus = read_rvu_file(path).rvus
    assert rvus == {"99490": RelativeValues(Decimal("1.00"), Decimal("0.81"), Decimal("0.06"))}
    assert read_rvu_file(path, "facility").rvus["99490"].pe == Decimal("0.41")


def test_a_re_import_replaces_the_year_and_setting_and_is_audited(db: Database, session: Session, roster: Roster) -> None:
    run_import(db, by=roster.doctor)
    run_import(db, setting="facility")
    run_import(db, year=2025, conversion_factor="32.3465")
    again = run_import(db, conversion_factor="34", by=roster.doctor)
    assert again.replaced == 5  # type: ignore[attr-defined]
    amounts = stored(session)
    assert amounts[2026]["99490"] == 63.58  # 1.87 x 34 = 63.58
    assert amounts[2025]["99490"] == 60.49  # 1.87 x 32.3465 = 60.487955: the other year is kept
    assert stored(session, "facility")[2026]["99490"] == 49.10  # and so is the other setting
    assert count(session, FeeScheduleAmount) == 15
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "fee_schedule.import").order_by(AuditEvent.id)).all()
    assert [e.entity_id for e in events] == ["2026/non_facility", "2026/facility", "2025/non_facility", "2026/non_facility"]
    last = events[-1]
    assert last.actor_id == roster.doctor.id
    assert last.before is not None and last.before["amounts"]["99490"] == 62.46 and last.before["conversion_factor"] == 33.4009
    assert last.after is not None and last.after["amounts"]["99490"] == 63.58 and last.after["source"] == "PPRRVU_sample.csv"
    listed = stored_schedules(session, 2026)
    assert [(g.year, g.setting, g.imported_by) for g in listed] == [(2026, "facility", None), (2026, "non_facility", "Dr. Okafor")]
    assert list(listed[1].amounts) == ["99490", "99439", "99491", "99457", "99470"]  # in the order codes are billed


def test_notes_say_what_the_file_lacks_and_where_it_disagrees(db: Database) -> None:
    done = run_import(db, year=2025, conversion_factor="32.3465")
    notes = done.notes  # type: ignore[attr-defined]
    assert notes[0].startswith("not in the file, so still the built-in amount: 99437, 99487")
    assert "the file's title names 2026, and it was imported as 2025" in notes
    assert "the file's CONV FACTOR column reads 33.4009, and 32.3465 was used" in notes


def _file(tmp_path: Path, text: str | bytes, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


HEADER = "HCPCS,MOD,DESCRIPTION,STATUS CODE,WORK RVU,NON-FAC PE RVU,FACILITY PE RVU,MP RVU\n"


@pytest.mark.parametrize(
    ("options", "content", "message"),
    [
        ({}, b"PK\x03\x04\x14\x00zipped", "bad.csv: this is a zip archive (or a spreadsheet), not a CSV; unzip it and import the PPRRVU"),
        ({}, b"\x00\x01\x02binary", "bad.csv: this is not a CSV text file; import the PPRRVU"),
        ({}, "just,some\ncsv,text\n", "bad.csv: no header row with HCPCS, MOD and the RVU columns (WORK RVU, NON-FAC PE RVU, FACILITY PE RVU, MP RVU)"),
        ({}, "HCPCS,MOD,DESCRIPTION,WORK RVU,NON-FAC PE RVU,FACILITY PE RVU\n99490,,x,1,1,1\n", "bad.csv: the header row has no MP RVU column"),
        ({}, HEADER + "99490,,x,A,1.00,abc,0.41,0.06\n", "bad.csv: line 2, code 99490: NON-FAC PE RVU is not a number of RVUs (0 or more)"),
        ({}, HEADER + "99490,,x,A,-1.00,0.81,0.41,0.06\n", "bad.csv: line 2, code 99490: WORK RVU is not a number of RVUs (0 or more)"),
        ({"setting": "facility"}, HEADER + "99490,,x,A,1.00,0.81,,0.06\n", "bad.csv: line 2, code 99490: FACILITY PE RVU is not a number of RVUs"),
        ({}, HEADER + "99213,,x,A,1.30,1.29,0.53,0.10\n99490,26,x,A,1,1,1,1\n", "bad.csv: none of the codes ccmbot bills (99490, 99439, 99491…) has a line without a modifier"),
        ({}, HEADER + "99490,,x,A,1,1,1,1\n99490,,x,A,1,1,1,1\n", "bad.csv: line 3: code 99490 appears twice without a modifier"),
        ({"year": 2019}, None, "the year must be a service year from 2020 to 2100, written YYYY (e.g. 2026)"),
        ({"year": 2101}, None, "the year must be a service year from 2020 to 2100"),
        ({"conversion_factor": "0"}, None, "the conversion factor must be a positive number of dollars per RVU"),
        ({"conversion_factor": "-33.4009"}, None, "the conversion factor must be a positive number of dollars per RVU"),
        ({"conversion_factor": "thirty"}, None, "the conversion factor must be a positive number of dollars per RVU, as in the year's final rule (e.g. 33.4009)"),
        ({"conversion_factor": "nan"}, None, "the conversion factor must be a positive number"),
        ({"gpci": "1.0,1.0"}, None, "the GPCI must be three positive numbers, work,pe,mp"),
        ({"gpci": "1.0,0,1.0"}, None, "the GPCI must be three positive numbers"),
        ({"gpci": "1.0,x,1.0"}, None, "the GPCI must be three positive numbers"),
        ({"gpci": "1,1,1,1"}, None, "the GPCI must be three positive numbers"),
        ({"setting": "hospital"}, None, "the setting must be non-facility (an office) or facility"),
    ],
)
def test_bad_input_is_refused_with_one_line_and_nothing_changes(
    db: Database, session: Session, tmp_path: Path, options: dict[str, object], content: str | bytes | None, message: str
) -> None:
    run_import(db)  # what is there before must stay
    path = SAMPLE if content is None else _file(tmp_path, content)
    with pytest.raises(InvalidValue) as refused:
        run_import(db, path, **options)
    text = str(refused.value)
    assert text.startswith(message), text
    assert text.endswith("nothing was imported.") and "\n" not in text
    assert "abc" not in text and "thirty" not in text  # the offending column or code is named, never the cell
    assert stored(session) == {2026: NATIONAL_NON_FACILITY}
    assert imports_audited(session) == 1


def test_a_missing_file_is_refused(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match=r"^cannot read .*nothing was imported\.$"):
        run_import(db, tmp_path / "PPRRVU26_JAN.csv")


def test_only_an_admin_imports(db: Database, session: Session, roster: Roster) -> None:
    with pytest.raises(NotAllowed, match=r"^Only an admin can import a fee schedule; ask Dr\. Okafor\.$"):
        run_import(db, by=roster.nurse)
    roster.doctor.active = False
    session.commit()
    with pytest.raises(LedgerError, match="no longer active"):
        run_import(db, by=roster.doctor)
    assert count(session, FeeScheduleAmount) == 0 and imports_audited(session) == 0
