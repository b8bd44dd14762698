"""Omie's wire formats: dd/mm/aaaa dates, hh:mm:ss times, S/N flags, money.

Omie speaks Brasília local time without an offset in the API and ISO 8601
with ``-03:00`` inside webhooks.  Internally the sandbox keeps ``date``
objects and integer "local seconds" so that filters compare cheaply; these
helpers convert at the edges.
"""
import datetime as dt
import unicodedata
from functools import lru_cache
from zoneinfo import ZoneInfo

BRAZIL = ZoneInfo('America/Sao_Paulo')
_ORDINAL_SECONDS = 86400


def brazil_now(epoch_seconds):
    "The wall-clock time in Brasília for an epoch timestamp"
    return dt.datetime.fromtimestamp(epoch_seconds, BRAZIL)


def brazil_today(epoch_seconds):
    return brazil_now(epoch_seconds).date()


@lru_cache(maxsize=4096)
def format_date(day):
    "date -> 'dd/mm/aaaa' ('' for None), cached so equal dates share a string"
    if day is None:
        return ''
    return '%02d/%02d/%04d' % (day.day, day.month, day.year)


@lru_cache(maxsize=8192)
def parse_date(text):
    """'dd/mm/aaaa' -> date; '' or None -> None; anything else ValueError.

    Omie also tolerates 'dd/mm/aa'; accepted too because hand-written
    requests use it.
    """
    if text is None:
        return None
    text = str(text).strip()
    if not text:
        return None
    parts = text.split('/')
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    day, month, year = (int(p) for p in parts)
    if len(parts[2]) == 2:
        year += 2000
    return dt.date(year, month, day)


def parse_time(text, default):
    "'hh:mm[:ss]' -> seconds of the day; '' -> default"
    if text is None or not str(text).strip():
        return default
    parts = str(text).strip().split(':')
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    numbers = [int(p) for p in parts] + [0]
    hours, minutes, seconds = numbers[:3]
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(text)
    return hours * 3600 + minutes * 60 + seconds


def format_time(seconds_of_day):
    return '%02d:%02d:%02d' % (
        seconds_of_day // 3600, seconds_of_day // 60 % 60, seconds_of_day % 60)


def local_stamp(day, seconds_of_day=0):
    "An integer that orders (date, time) pairs; cheap to compare in filters"
    return day.toordinal() * _ORDINAL_SECONDS + seconds_of_day


def stamp_of(date_text, time_text):
    "Stamp of an Omie (dd/mm/aaaa, hh:mm:ss) pair; 0 when the date is empty"
    day = parse_date(date_text)
    if day is None:
        return 0
    return local_stamp(day, parse_time(time_text, 0))


def iso_brazil(day):
    "Webhook date format: '2024-05-31T00:00:00-03:00' ('' for None)"
    if day is None:
        return ''
    return '%04d-%02d-%02dT00:00:00-03:00' % (day.year, day.month, day.day)


def iso_from_omie(text):
    "'31/05/2024' -> '2024-05-31T00:00:00-03:00' ('' when empty or invalid)"
    try:
        return iso_brazil(parse_date(text))
    except ValueError:
        return ''


def money(value):
    "Round to cents and keep a JSON number (Omie sends 1520.35, not '1520,35')"
    return round(float(value) + 0.0, 2)


def flag(value):
    "Python truthiness -> Omie's 'S'/'N'"
    return 'S' if value else 'N'


def is_yes(value):
    "Omie flags arrive as 'S'/'N' but some clients send true/false"
    if isinstance(value, bool):
        return value
    return str(value or '').strip().upper() in ('S', 'SIM', 'TRUE', '1', 'Y')


def digits(text):
    return ''.join(ch for ch in str(text or '') if ch.isdigit())


def ascii_upper(text):
    "'São Paulo' -> 'SAO PAULO', the way Omie prints city names"
    decomposed = unicodedata.normalize('NFKD', text)
    return ''.join(
        ch for ch in decomposed if not unicodedata.combining(ch)).upper()
