"""When a schedule runs next: crontabs on a shop's wall clock (across the DST changes) and intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.errors import BadInput
from common.schedules.timing import check_cron, next_cron_run, next_interval_run, parse_timezone

MADRID = parse_timezone("Europe/Madrid")


def runs(expression: str, after: datetime, count: int) -> list[str]:
    found = []
    for _ in range(count):
        after = next_cron_run(expression, MADRID, after=after)
        found.append(after.strftime("%m-%d %H:%M"))
    return found


def test_half_past_seven_in_madrid_is_half_past_seven_on_both_sides_of_each_change():
    # summer time starts on 29 March 2026 (CET +1 → CEST +2) and ends on 25 October
    assert runs("30 7 * * *", datetime(2026, 3, 27, 12, tzinfo=UTC), 3) == ["03-28 06:30", "03-29 05:30", "03-30 05:30"]
    assert runs("30 7 * * *", datetime(2026, 10, 23, 12, tzinfo=UTC), 3) == ["10-24 05:30", "10-25 06:30", "10-26 06:30"]


def test_a_time_the_clock_repeats_runs_once_and_a_time_it_skips_runs_an_hour_later():
    # 25 October: 02:30 happens twice (00:30 and 01:30 UTC); croniter alone would run both
    assert runs("30 2 * * *", datetime(2026, 10, 24, 22, tzinfo=UTC), 3) == ["10-25 00:30", "10-26 01:30", "10-27 01:30"]
    # asked during the second 02:10, the day's 02:30 has already run
    assert next_cron_run("30 2 * * *", MADRID, after=datetime(2026, 10, 25, 1, 10, tzinfo=UTC)) == \
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    # 29 March: there is no 02:30; it runs at 03:30 local (01:30 UTC)
    assert runs("30 2 * * *", datetime(2026, 3, 28, 22, tzinfo=UTC), 2) == ["03-29 01:30", "03-30 00:30"]


def test_monday_mornings_and_the_next_run_is_strictly_later():
    monday_8 = datetime(2026, 11, 30, 7, tzinfo=UTC)  # Monday 08:00 in Madrid
    assert next_cron_run("0 8 * * 1", MADRID, after=monday_8 - timedelta(seconds=1)) == monday_8
    assert next_cron_run("0 8 * * 1", MADRID, after=monday_8) == monday_8 + timedelta(days=7)


def test_an_interval_skips_the_periods_it_missed_and_keeps_its_phase():
    anchor = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert next_interval_run(anchor, 60, after=anchor - timedelta(seconds=5)) == anchor
    # down for ten minutes: one run now, the next one on the minute as before
    assert next_interval_run(anchor, 60, after=anchor + timedelta(minutes=10, seconds=7)) == anchor + timedelta(minutes=11)


@pytest.mark.parametrize("expression", ["30 7 * *", "61 * * * *", "* * * * * *", "@daily", "cada día", "30 25 * * *"])
def test_a_bad_crontab_is_refused_in_spanish(expression):
    with pytest.raises(BadInput) as refused:
        check_cron(expression)
    assert refused.value.code == "schedule_bad_cron"
    assert "cinco campos" in refused.value.message and expression in refused.value.message


def test_a_crontab_that_never_runs_is_refused():
    with pytest.raises(BadInput) as refused:
        check_cron("0 0 30 2 *")
    assert refused.value.code == "schedule_cron_never_runs" and "febrero" in refused.value.message


def test_spaces_in_a_crontab_are_normalised():
    assert check_cron(" 30  7 * *   1-5 ") == "30 7 * * 1-5"


@pytest.mark.parametrize("name", ["Europe/Madird", "Europe", "CET+1", "", " Europe/Madrid", "../etc/passwd", "a\x00b"])
def test_an_unknown_time_zone_is_refused_in_spanish(name):
    with pytest.raises(BadInput) as refused:
        parse_timezone(name)
    assert refused.value.code == "schedule_unknown_timezone" and "IANA" in refused.value.message
