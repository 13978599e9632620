"""When a schedule runs next: a crontab in an IANA time zone, or a fixed interval.

Cron fields are matched by croniter on the *local wall clock* (naive local times), and each
match is then placed in the zone with `zoneinfo`. croniter's own time-zone mode fires a time
that the clock repeats twice ("30 2 * * *" on the last Sunday of October in Europe/Madrid ran
at 00:30 and 01:30 UTC); here every local date and time fires at most once:

- a time the clock skips (02:30 on the last Sunday of March) runs when the clock reaches the
  same offset from the change (03:30 local, fold=0);
- a time the clock repeats (02:30 on the last Sunday of October) runs once, the first time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from common.errors import BadInput

CRON_FIELDS = ("minuto", "hora", "día del mes", "mes", "día de la semana")


def parse_timezone(name: str) -> ZoneInfo:
    """The zone named `name` (IANA, e.g. Europe/Madrid), or a Spanish 422."""
    try:
        if name != name.strip() or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, such as «Europe»
        raise BadInput(
            f"La zona horaria «{name}» no existe. Usa un nombre IANA, por ejemplo Europe/Madrid o Atlantic/Canary.",
            code="schedule_unknown_timezone",
        ) from None


def check_cron(expression: str) -> str:
    """A crontab of five fields (minute hour day month weekday), normalised to single spaces, or a Spanish 422."""
    fields = " ".join(expression.split())
    if len(fields.split()) != len(CRON_FIELDS) or not croniter.is_valid(fields):
        raise BadInput(
            f"La expresión cron «{expression}» no es válida. Escribe cinco campos separados por espacios: "
            f"{', '.join(CRON_FIELDS)}; por ejemplo «30 7 * * *» (cada día a las 07:30) "
            "o «0 8 * * 1» (los lunes a las 08:00).",
            code="schedule_bad_cron",
        )
    try:  # «0 0 30 2 *» is well formed and never runs
        croniter(fields, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise BadInput(f"La expresión cron «{expression}» no coincide con ninguna fecha (¿un 30 de febrero?).",
                       code="schedule_cron_never_runs") from None
    return fields


def next_cron_run(expression: str, zone: ZoneInfo, *, after: datetime) -> datetime:
    """The first time strictly after `after` (aware) that `expression` matches on `zone`'s clock, in UTC."""
    matches = croniter(expression, after.astimezone(zone).replace(tzinfo=None))
    while True:
        # fold=0: a repeated wall-clock time means its first occurrence; a skipped one, the same
        # offset past the change. During the repeated hour a match can be already past in UTC
        # (it ran in the first pass): skip it.
        at = matches.get_next(datetime).replace(tzinfo=zone).astimezone(UTC)
        if at > after:
            return at


def next_interval_run(anchor: datetime, seconds: int, *, after: datetime) -> datetime:
    """The first `anchor + k·seconds` (k ≥ 1) strictly after `after`: missed periods are skipped, not replayed."""
    step = timedelta(seconds=seconds)
    if anchor > after:
        return anchor
    periods = (after - anchor) // step + 1
    return anchor + periods * step
