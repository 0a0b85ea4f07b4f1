"""Cron schedules (``croniter``) in a trigger's time zone, and RFC 3339 times.

A schedule is standard five-field cron (``minute hour day month weekday``); a sixth field
is seconds (croniter's extension), which the engine accepts so short schedules can be
tested and used without waiting minutes.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from ..errors import bad_request


def zone(name: object) -> ZoneInfo:
    """The time zone named ``name`` (IANA, e.g. ``Europe/Berlin``); 400 when unknown."""
    if not isinstance(name, str) or not name:
        raise bad_request("time_zone is required, an IANA name such as 'UTC' or 'Europe/Berlin'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad_request(f"time_zone {name!r} is not a known IANA time zone") from exc


def check(schedule: object, time_zone: object) -> None:
    """400 unless ``schedule`` is a valid 5-field (or 6-field, with seconds) cron line."""
    zone(time_zone)
    if not isinstance(schedule, str) or not schedule.strip():
        raise bad_request("schedule is required, a cron line such as '0 9 * * 1-5'")
    fields = schedule.split()
    if len(fields) not in (5, 6):
        raise bad_request(
            f"schedule {schedule!r} must have 5 cron fields (minute hour day month weekday), "
            "or 6 with seconds last"
        )
    if not croniter.is_valid(schedule):
        raise bad_request(f"schedule {schedule!r} is not a valid cron expression")


def next_after(schedule: str, time_zone: str, after: dt.datetime) -> dt.datetime:
    """The first fire time strictly after ``after`` (an aware datetime), in UTC."""
    local = after.astimezone(zone(time_zone))
    nxt: dt.datetime = croniter(schedule, local).get_next(dt.datetime)
    return nxt.astimezone(dt.UTC)


def last_at_or_before(schedule: str, time_zone: str, moment: dt.datetime) -> dt.datetime:
    """The latest fire time at or before ``moment``, in UTC (the missed fire to run)."""
    local = moment.astimezone(zone(time_zone)) + dt.timedelta(microseconds=1)
    prev: dt.datetime = croniter(schedule, local).get_prev(dt.datetime)
    return prev.astimezone(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
