"""Session report files and plan templates as people write them, good and bad."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config.errors import ConfigError
from planning.reports import ReportFileError, parse_date, parse_file, parse_hours
from planning.templates import load_template

STAGES = {"film": {"offline_edit": "Offline edit", "grading": "Grading", "archives": "Archive clearance"}}


@pytest.mark.parametrize(("text", "minutes"), [("7.5", 450), ("7,5", 450), ("7h30", 450), ("7:05", 425), ("8", 480)])
def test_hours_forms(text: str, minutes: int) -> None:
    assert parse_hours(text) == minutes


@pytest.mark.parametrize(("text", "reason"), [("-1", "negative hours"), ("0", "zero hours"), ("25", "25 hours in one day"),
                                              ("beaucoup", "not a number"), ("7h75", "not a number"),
                                              ("inf", "not a number"), ("1e308", "not a number")])
def test_bad_hours(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_hours(text)


def test_dates_iso_or_day_first_only() -> None:
    assert parse_date("2026-03-09") == parse_date("09/03/2026") == date(2026, 3, 9)
    for bad in ("03/09/26", "2026/03/09", "9 mars 2026"):
        with pytest.raises(ValueError, match="is not YYYY-MM-DD or DD/MM/YYYY"):
            parse_date(bad)
    for impossible in ("2026-02-30", "31/02/2026", "2026-13-01", "00/01/2026"):  # the right format, no such day
        with pytest.raises(ValueError, match="is not a real date"):
            parse_date(impossible)


def test_spreadsheet_export_latin1_bom_and_production_column(tmp_path: Path) -> None:
    f = tmp_path / "export.csv"
    f.write_bytes("Production,Date,Technicien,Étape,Heures,Travail effectué,Incidents\r\n"
                  "film,2026-03-09,Léa,Étalonnage,\"7,5\",bobine 1,\r\n"
                  "film,2026-03-09,Léa,Archive clearance,2,INA,\r\n"
                  "autre,2026-03-09,Léa,grading,2,x,\r\n"
                  "film,2026-03-10,Léa,grading,2,x,trop,de,cellules\r\n".encode("cp1252"))
    parsed = parse_file(f, production=None, stages_of=STAGES)
    assert [(r.stage, r.minutes, r.technician, r.source) for r in parsed.good] == [
        ("grading", 450, "Léa", "export.csv:2"), ("archives", 120, "Léa", "export.csv:3")]
    assert [(b.line, b.reason.split(";")[0]) for b in parsed.bad] == [
        (4, "production 'autre' has no plan"), (5, "more cells than columns (de, cellules)")]


def test_header_problems_name_the_columns(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("date,technician,stage,hours,done\n2026-03-09,Léa,grading,2,x\n")
    with pytest.raises(ReportFileError, match="no production column: name the production with --production"):
        parse_file(f, production=None, stages_of=STAGES)
    f.write_text("")
    with pytest.raises(ReportFileError, match="empty file"):
        parse_file(f, production="film", stages_of=STAGES)


def test_template_errors_name_the_field(tmp_path: Path) -> None:
    def write(text: str) -> Path:
        p = tmp_path / "t.toml"
        p.write_text('schema_version = 1\nname = "t"\n' + text)
        return p

    with pytest.raises(ConfigError, match=r"field 'stages.1.depends_on': unknown stage 'mixx'"):
        load_template(write('[[stages]]\nkey="mix"\ndays=2\nhours=8\n[[stages]]\nkey="pad"\ndays=1\nhours=1\n'
                            'depends_on=["mixx"]\n'))
    with pytest.raises(ConfigError, match="dependency cycle: a -> b -> a"):
        load_template(write('[[stages]]\nkey="a"\ndays=1\nhours=1\ndepends_on=["b"]\n'
                            '[[stages]]\nkey="b"\ndays=1\nhours=1\ndepends_on=["a"]\n'))
    with pytest.raises(ConfigError, match="field 'drop.0': no stage 'dubbing' to drop"):
        load_template(write('extends = "fiction"\ndrop = ["dubbing"]\n'))
    with pytest.raises(ConfigError, match="field 'stages.0.days': Input should be greater than or equal to 1"):
        load_template(write('[[stages]]\nkey="a"\ndays=0\nhours=1\n'))
    with pytest.raises(ConfigError, match="field 'schema_version': unsupported schema_version 2"):
        load_template(write("").write_text('schema_version = 2\nname = "t"\n') and tmp_path / "t.toml")
    short = load_template(write('extends = "fiction"\ndrop = ["foley", "vfx", "voice_sync", "music"]\n'))
    assert len(short.stages) == 8 and short.hours_per_day == 8


def test_reading_is_bounded_and_names_the_line(tmp_path: Path) -> None:
    import tracemalloc

    from planning.reports import MAX_LINE_BYTES

    f = tmp_path / "huge.csv"
    with open(f, "wb") as fh:
        fh.write(b"production,date,technician,stage,hours,done\n")
        fh.write(b'film,2026-03-09,L\xc3\xa9a,grading,2,"' + b"x" * (MAX_LINE_BYTES * 3) + b'"\n')  # over-long lines
        fh.write(b"film,2026-03-09,Lea,grading,2," + b"y" * (3 * MAX_LINE_BYTES) + b"\n")
        fh.write(b"film,2026-03-09,Lea,grading,2,ok\n")
        # A quote never closed: short lines adding up to a field over the limit.
        fh.write(b'film,2026-03-10,Lea,grading,2,"never closed\n' + (b"z" * 1000 + b"\n") * 70)
    parsed = parse_file(f, production=None, stages_of=STAGES)
    assert [r.source for r in parsed.good] == ["huge.csv:4"]
    assert [(b.line, b.reason.split(" (")[0]) for b in parsed.bad][:3] == [
        (2, "line longer than 64 KiB"), (3, "line longer than 64 KiB"), (5, "not readable as CSV")]
    assert all(b.line > 5 for b in parsed.bad[3:])  # the rest of the broken cell: each line named, none kept

    # A 1 GB line (a sparse file: no disk used) is not read whole, nor to its end: the row is named.
    big = tmp_path / "one-gigabyte-line.csv"
    with open(big, "wb") as fh:
        fh.write(b"production,date,technician,stage,hours,done\nfilm,")
        fh.truncate(1 << 30)
    tracemalloc.start()
    parsed = parse_file(big, production=None, stages_of=STAGES)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20 and [b.line for b in parsed.bad] == [2] and "1073741" in parsed.bad[0].reason
