"""Typed Omie errors and the classification of Omie's answers into them.

Omie reports problems as a JSON fault ``{"faultcode", "faultstring"}`` with
almost any HTTP status (500 mostly, sometimes 200, 403 or 425), sometimes
only in the ``OmieAPI-Error`` header, and sometimes as an HTML page.  The
classification therefore looks at the fault, the header and the status
together.  Messages are plain English; the Portuguese text Omie sent is
kept in ``faultstring`` (and quoted in the message) for support.
"""
import datetime as _dt
import re

__all__ = [
    'OmieError', 'AuthenticationError', 'RedundantRequestError',
    'ConcurrencyError', 'MisuseBlockedError', 'RateLimitError',
    'NotFoundError', 'NoRecords', 'ValidationError', 'DuplicateError',
    'ServerError', 'TimeoutError', 'ConnectionError', 'CircuitOpenError',
    'classify_fault', 'classify_status',
    ]

# Omie works on Brasília time; "tente novamente às HH:MM:SS" is read in it.
BRASILIA = _dt.timezone(_dt.timedelta(hours=-3), 'BRT')
# Omie blocks a method for 30 minutes after repeated errors.
MISUSE_BLOCK_SECONDS = 1800
DEFAULT_RATE_LIMIT_WAIT = 60
DEFAULT_REDUNDANT_WAIT = 60


class OmieError(Exception):
    """Base of every error the Omie client raises.

    kind is one of authentication, timeout, rate_limit, validation,
    not_found, remote_error, connection; transient tells whether trying the
    same request later may succeed; retry_after is the wait in seconds Omie
    asked for (or None).
    """
    kind = 'remote_error'
    transient = False
    # True when Omie certainly did not run the request (refused before
    # running it), which makes retrying even a write safe.
    not_executed = False
    summary = 'Omie returned an error'

    def __init__(self, message=None, *, faultcode=None, faultstring=None,
            status=None, retry_after=None, call=None):
        if message is None:
            message = self.describe(call, faultstring, retry_after)
        super().__init__(message)
        self.message = message
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.status = status
        self.retry_after = retry_after
        self.call = call

    @classmethod
    def describe(cls, call, faultstring=None, retry_after=None):
        text = cls.summary
        if call:
            text = f'{call}: {text}'
        if faultstring:
            text += f' (Omie said: {_clean(faultstring)})'
        if retry_after is not None:
            text += f'; retry after {_seconds(retry_after)} s'
        return text + '.'

    def __str__(self):
        return self.message

    def __repr__(self):
        return f'{type(self).__name__}({self.message!r})'

    def __reduce__(self):
        # Keep keyword-only attributes when pickled (e.g. into a queue task).
        return (_rebuild, (type(self), self.message, {
                    'faultcode': self.faultcode,
                    'faultstring': self.faultstring,
                    'status': self.status,
                    'retry_after': self.retry_after,
                    'call': self.call,
                    }))


def _rebuild(cls, message, kwargs):
    return cls(message, **kwargs)


class AuthenticationError(OmieError):
    kind = 'authentication'
    summary = ('Omie rejected the App Key / App Secret; check both in the '
        'Omie developer portal')


class RedundantRequestError(OmieError):
    kind = 'rate_limit'
    transient = True
    not_executed = True
    summary = ('Omie refused a request repeated within its 60-second '
        'redundant-call window')


class ConcurrencyError(OmieError):
    kind = 'rate_limit'
    transient = True
    not_executed = True
    summary = 'Omie is still running another request of this method'


class MisuseBlockedError(OmieError):
    kind = 'rate_limit'
    transient = True
    not_executed = True
    summary = ('Omie blocked this method after repeated failed requests '
        '(misuse block)')


class RateLimitError(OmieError):
    kind = 'rate_limit'
    transient = True
    not_executed = True
    summary = 'Too many requests: Omie\'s rate limit was exceeded'


class NotFoundError(OmieError):
    kind = 'not_found'
    summary = 'The record does not exist in Omie'


class NoRecords(NotFoundError):
    """Omie's way of answering an empty list or a page past the end.

    The client turns it into "no more records"; it only escapes from
    ``client.call`` on a raw list call.
    """
    summary = 'Omie has no records for this request'


class ValidationError(OmieError):
    kind = 'validation'
    summary = 'Omie rejected the data sent'


class DuplicateError(ValidationError):
    "The record already exists in Omie (same integration code or document)"
    summary = 'The record already exists in Omie'

    @property
    def existing_id(self):
        "Omie id of the existing record when the message names it"
        match = re.search(r'\bId \[(\d+)\]', self.faultstring or '')
        return int(match.group(1)) if match else None


class ServerError(OmieError):
    kind = 'remote_error'
    transient = True
    summary = 'Omie had an internal error or returned a broken response'


class TimeoutError(OmieError):  # noqa: A001 - the name reads best here
    kind = 'timeout'
    transient = True
    summary = 'Omie did not answer in time'


class ConnectionError(OmieError):  # noqa: A001
    kind = 'connection'
    transient = True
    summary = 'Could not connect to Omie'


class CircuitOpenError(OmieError):
    kind = 'rate_limit'
    transient = True
    not_executed = True
    summary = ('Calls to this method are paused after repeated failures, '
        'to avoid Omie\'s 30-minute misuse block')


def _clean(faultstring):
    text = ' '.join(str(faultstring).split())
    if text.upper().startswith('ERROR:'):
        text = text[len('ERROR:'):].strip()
    return text[:500]


def _seconds(value):
    return int(value) if float(value).is_integer() else round(value, 1)


# ---------------------------------------------------------------------------
# Classification

def _fault_number(faultcode):
    "'SOAP-ENV:Client-5113' -> 5113"
    match = re.search(r'-(\d+)\s*$', faultcode or '')
    return int(match.group(1)) if match else None


def _header_code(header):
    "'6 - Consumo redundante…' -> 6"
    match = re.match(r'\s*(\d+)', header or '')
    return int(match.group(1)) if match else None


def _fold(text):
    "Lower case without Portuguese accents, for tolerant matching"
    table = str.maketrans('áàâãäéèêëíìîïóòôõöúùûüç', 'aaaaaeeeeiiiiooooouuuuc')
    return (text or '').lower().translate(table)


def _wait_seconds(text):
    "'Aguarde 58 segundos' / 'Tente novamente em 1800 segundos' -> 58 / 1800"
    match = re.search(r'(\d+)\s*segundo', _fold(text))
    return int(match.group(1)) if match else None


def _seconds_until(text, now):
    """'… tentar novamente às 14:03:27' -> seconds from now until then.

    Omie states the time on Brasília's clock; a server (or sandbox) that
    uses the local clock instead is accepted too.  Whichever reading gives
    a plausible, short wait wins; otherwise None (backoff decides).
    """
    match = re.search(r'(\d{1,2}):(\d{2}):(\d{2})', text or '')
    if not match:
        return None
    target = _dt.time(*map(int, match.groups()))
    now = now or _dt.datetime.now(_dt.timezone.utc)
    candidates = []
    for local in (now.astimezone(BRASILIA), now.astimezone()):
        at = _dt.datetime.combine(local.date(), target, local.tzinfo)
        delta = (at - local).total_seconds()
        if delta < -12 * 3600:  # target is after midnight
            delta += 24 * 3600
        candidates.append(delta)
    plausible = [d for d in candidates if 0 <= d <= 3600]
    if plausible:
        return max(1, int(min(plausible) + 0.999))
    if any(-5 <= d < 0 for d in candidates):
        return 1  # the moment already passed
    return None


def _first(*values):
    "The first value that is not None (0 seconds is a valid wait)"
    return next((value for value in values if value is not None), None)


def _retry_after_header(headers):
    value = (headers or {}).get('Retry-After')
    if value is None:
        return None
    try:
        return max(0, int(float(value)))
    except ValueError:
        pass
    try:  # An HTTP date.
        from email.utils import parsedate_to_datetime
        when = parsedate_to_datetime(value)
        delta = when - _dt.datetime.now(_dt.timezone.utc)
        return max(0, int(delta.total_seconds()))
    except (TypeError, ValueError):
        return None


def classify_fault(faultcode, faultstring, *, status=None, headers=None,
        call=None, now=None):
    """Return the OmieError for a fault Omie answered (whatever the status).

    faultcode/faultstring come from the body or, when missing there, from
    the OmieAPI-Error header ("<code> - <message>").
    """
    header = (headers or {}).get('OmieAPI-Error')
    if not faultcode and header and _header_code(header) is not None:
        faultcode = f'SOAP-ENV:Client-{_header_code(header)}'
    if not faultstring and header:
        faultstring = re.sub(r'^\s*\d+\s*-\s*', '', header)
    faultcode = str(faultcode or '').strip()
    faultstring = str(faultstring or '').strip()
    number = _fault_number(faultcode)
    text = _fold(faultstring)
    args = dict(faultcode=faultcode or None, faultstring=faultstring or None,
        status=status, call=call)

    if number == 5113 or 'nao existem registros' in text:
        return NoRecords(**args)
    if ('MISUSE' in faultcode.upper() or 'consumo indevido' in text
            or status == 425):
        return MisuseBlockedError(retry_after=_first(
                _wait_seconds(faultstring), _retry_after_header(headers),
                MISUSE_BLOCK_SECONDS), **args)
    if (number == 6 or 'consumo redundante' in text
            or 'redundant' in text):
        return RedundantRequestError(retry_after=_first(
                _wait_seconds(faultstring), DEFAULT_REDUNDANT_WAIT), **args)
    if number == 1100 or 'ja foi processada' in text:
        return ConcurrencyError(
            retry_after=_seconds_until(faultstring, now), **args)
    if number == 1880 or 'requisicao desse metodo sendo executada' in text:
        return ConcurrencyError(retry_after=_wait_seconds(faultstring),
            **args)
    if (status == 429 or 'limite de requisic' in text
            or 'too many requests' in text):
        return RateLimitError(retry_after=_first(
                _retry_after_header(headers), _wait_seconds(faultstring),
                DEFAULT_RATE_LIMIT_WAIT), **args)
    if (status in (401, 403) or 'chave de acesso' in text
            or (number is None and ('app_key' in text
                    or 'app_secret' in text))):
        return AuthenticationError(**args)
    if number == 8020 or 'broken response' in text:
        return ServerError(**args)
    if number == 102:
        # Omie's generic "invalid data" code: duplicates and missing
        # references (category, account…) of a write are both data errors.
        if 'ja cadastrad' in text or 'ja existe' in text:
            return DuplicateError(**args)
        return ValidationError(**args)
    if (number in (101, 103, 105) or 'nao cadastrad' in text
            or 'nao foi encontrad' in text or 'nao encontrad' in text
            or re.search(r'nenhum\w* .*encontrad', text)):
        return NotFoundError(**args)
    if 'ja cadastrad' in text or 'ja existe' in text:
        return DuplicateError(**args)
    if (number is not None or faultcode.startswith('SOAP-ENV:Client')
            or 'invalid json' in text or 'syntaxerror' in text):
        return ValidationError(**args)
    # SOAP-ENV:Server and unknown codes: Omie's side failed.
    return ServerError(**args)


def classify_status(status, *, headers=None, call=None, detail=None):
    "Return the OmieError for an HTTP error status that carried no fault"
    args = dict(status=status, call=call)
    if status == 429:
        return RateLimitError(retry_after=_first(
                _retry_after_header(headers), DEFAULT_RATE_LIMIT_WAIT),
            **args)
    if status == 425:
        return MisuseBlockedError(retry_after=_first(
                _retry_after_header(headers), MISUSE_BLOCK_SECONDS), **args)
    if status in (401, 403):
        return AuthenticationError(**args)
    if status >= 500:
        return ServerError(
            ServerError.describe(call, None) + (f' {detail}' if detail
                else f' (HTTP {status})'), **args)
    return OmieError(
        OmieError.describe(call) + f' (unexpected HTTP {status}'
        + (f': {detail})' if detail else ')'), **args)
