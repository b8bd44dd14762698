"""OmieClient: Omie's JSON API over requests.

One place knows Omie's transport quirks: the envelope with credentials in
the body, the trailing slash, two pagination dialects, faults that arrive
with any HTTP status, "wait N seconds" answers, the consumption limits and
the misuse block.  Callers get dicts (or typed errors) and never sleep,
paginate or parse faults themselves.
"""
import datetime as _dt
import decimal
import json
import logging
import random
import threading
import time
from typing import NamedTuple

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import errors
from .endpoints import (
    PAGING_KEYS, HUNGARIAN, SNAKE, UNPAGED, WRITE, endpoint_for)
from .answers import OmieAnswers
from .client_metrics import ClientMetrics
from .limits import CircuitBreaker, RateLimiter, ReadCache

__all__ = ['OmieClient', 'Page', 'DEFAULT_BASE_URL']

DEFAULT_BASE_URL = 'https://app.omie.com.br'
USER_AGENT = 'novagestao-omie/8.0 (+https://www.tryton.org)'
MASK = '********'
# Characters users paste along with credentials that str.strip() keeps.
_INVISIBLE = '\u200b\u200c\u200d\u2060\ufeff'

_logger = logging.getLogger(__name__)
# Omie refuses a read repeated within a minute (its redundant-call rule) and
# asks for the answer already received: the reads of the clients of this
# process (a sync run after another, in the same worker), kept for the time
# of the rule, answer such a refusal instead of waiting it out.
REDUNDANT_WINDOW = 60.0
_recent_reads = ReadCache(ttl=REDUNDANT_WINDOW, maxsize=256)


class Page(NamedTuple):
    "One page of a list: unpacks as (number, total_pages, records)"
    number: int
    total_pages: int
    records: list


class _Secret:
    "Holds the App Secret so that no repr, vars() or log can show it"
    __slots__ = ('_value',)

    def __init__(self, value):
        self._value = value

    def reveal(self):
        return self._value

    def __repr__(self):
        return MASK

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError('The Omie App Secret cannot be pickled')


def _clean_credential(value):
    if value is None:
        return ''
    return str(value).strip().strip(_INVISIBLE).strip()


def _json_default(value):
    "Let callers pass dates and Decimals; Omie wants dd/mm/aaaa and numbers"
    if isinstance(value, _dt.datetime):
        # Omie splits date and time into two fields: ambiguous, refuse.
        raise TypeError('Pass Omie dates and times as separate fields')
    if isinstance(value, _dt.date):
        return value.strftime('%d/%m/%Y')
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f'{type(value).__name__} is not JSON serialisable')


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class OmieClient(OmieAnswers, ClientMetrics):
    """Client of Omie's JSON API for one Omie application (App Key).

    Thread-safe: a single client may serve several worker threads; the
    limits and the circuit breaker are shared, as Omie's are.
    """

    def __init__(self, app_key, app_secret, base_url=DEFAULT_BASE_URL,
            timeout=60, page_size=500, max_retries=4, sleep=None,
            clock=None, cache_ttl=55, session=None, logger=None,
            user_agent=USER_AGENT, *, max_wait=120, connect_timeout=10,
            backoff_base=1.0, backoff_cap=30.0, rng=None,
            breaker_threshold=8, breaker_cooldown=60,
            requests_per_minute=240, requests_per_minute_overall=960,
            concurrent_requests=4, concurrent_writes=1, cache_size=256,
            pool_maxsize=10, connect_retries=1, now=None, guard_store=None):
        self.app_key = _clean_credential(app_key)
        self._secret = _Secret(_clean_credential(app_secret))
        # Also mask the secret as typed (with its stray spaces), in case a
        # server echoes the raw value back.
        self._raw_secret = _Secret(str(app_secret or ''))
        self.base_url = self._clean_base_url(base_url)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.page_size = page_size
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.user_agent = user_agent
        self.logger = logger or _logger
        # Defaults look time up at call time, so freezegun's patches apply.
        # The breaker's state may be shared across processes: wall clock.
        wall_clock = clock or (lambda: time.time())
        sleep = sleep or (lambda seconds: time.sleep(seconds))
        clock = clock or (lambda: time.monotonic())
        self._sleep = sleep
        self._clock = clock
        self._now = now or (lambda: _dt.datetime.now(_dt.timezone.utc))
        self._rng = rng or random.Random()
        self._limiter = RateLimiter(per_method=requests_per_minute,
            overall=requests_per_minute_overall,
            concurrent=concurrent_requests,
            concurrent_writes=concurrent_writes, sleep=sleep, clock=clock,
            # One second more than Omie's minute: requests reach Omie a
            # little after they leave, and its window counts arrivals.
            window=61.0)
        # Omie counts errors per App Key and method, not per client: pass
        # the same guard_store to every client of the App Key.
        self._breaker = CircuitBreaker(threshold=breaker_threshold,
            cooldown=breaker_cooldown, clock=wall_clock, store=guard_store)
        self._cache = ReadCache(ttl=cache_ttl, maxsize=cache_size,
            clock=clock)
        self._own_session = session is None
        self.session = session or self._make_session(pool_maxsize,
            connect_retries)
        self._lock = threading.Lock()
        self.calls = 0
        self._stats = {'requests': 0, 'retries': 0, 'cache_hits': 0,
            'errors': 0, 'waited': 0.0, 'by_call': {}}
        # {call: [milliseconds]}: how long Omie took to answer each request
        # (at most LATENCY_SAMPLES a method, a uniform sample beyond)
        self._latencies = {}
        self._latency_seen = {}
        self._sample_rng = random.Random()

    # -- setup -------------------------------------------------------------

    @staticmethod
    def _clean_base_url(base_url):
        url = (base_url or DEFAULT_BASE_URL).strip().rstrip('/')
        # Accept the URL as copied from Omie's docs too.
        if url.endswith('/api/v1'):
            url = url[:-len('/api/v1')]
        return url

    @staticmethod
    def _make_session(pool_maxsize, connect_retries):
        session = requests.Session()
        # urllib3 only retries connection attempts (nothing was sent yet);
        # every retry that needs Omie's answer ("wait N seconds") is ours.
        retry = Retry(total=connect_retries, connect=connect_retries,
            read=0, status=0, redirect=0, other=0, backoff_factor=0,
            raise_on_status=False, respect_retry_after_header=False)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize,
            max_retries=retry)
        session.mount('https://', adapter)
        session.mount('http://', adapter)
        return session

    def close(self):
        if self._own_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return (f'{type(self).__name__}(app_key={self.app_key!r}, '
            f'app_secret={MASK!r}, base_url={self.base_url!r})')

    def __getstate__(self):
        raise TypeError('OmieClient holds credentials and cannot be pickled')

    # -- public API --------------------------------------------------------

    def call(self, call, path=None, **params):
        """Send one Omie call and return its response dict.

        An empty list (Omie's Client-5113 fault) comes back as a response
        with an empty list; every other problem raises an OmieError.
        """
        endpoint = endpoint_for(call, path)
        try:
            return self._request(endpoint, call, params)
        except errors.NoRecords:
            if endpoint.list_key is None:
                raise
            return self._empty_list_response(endpoint, params)

    def iterate(self, call, page_size=None, *, path=None, **params):
        "Yield every record of a list call, fetching pages lazily"
        for page in self.iterate_pages(call, page_size, path=path, **params):
            yield from page.records

    def iterate_pages(self, call, page_size=None, *, path=None, **params):
        """Yield Page(number, total_pages, records) of a list call.

        Pages are fetched one at a time, when the previous one has been
        consumed, so an importer can commit and report progress per page.
        Passing the page parameter (pagina / nPagina) resumes from it.
        """
        endpoint = endpoint_for(call, path)
        if endpoint.dialect == UNPAGED:
            try:
                data = self._request(endpoint, call, params)
            except errors.NoRecords:
                return
            records = self._records_of(data, endpoint)
            if records:
                yield Page(1, 1, records)
            return

        dialect = endpoint.dialect or self._guess_dialect(params)
        page_key, size_key, total_key, _ = PAGING_KEYS[dialect]
        size = int(params.pop(size_key, None) or page_size or self.page_size)
        number = int(params.pop(page_key, None) or 1)
        while True:
            request = {page_key: number, size_key: size, **params}
            try:
                data = self._request(endpoint, call, request)
            except errors.NoRecords:
                return  # past the last page, or nothing matched
            records = self._records_of(data, endpoint)
            if not records:
                return
            total = _to_int(data.get(total_key))
            if total is None:
                # Unknown resource: read whichever dialect it answered in.
                total = _to_int(data.get('total_de_paginas',
                        data.get('nTotPaginas')))
            yield Page(number, total or number, records)
            if total is not None:
                if number >= total:
                    return
            elif len(records) < size:
                return
            number += 1

    def clear_cache(self):
        self._cache.clear()

    def circuit_state(self, call):
        "'closed', 'open' or 'half-open' for the method named call"
        return self._breaker.state(call)

    # -- convenience wrappers ---------------------------------------------

    def test_connection(self):
        """Check the credentials with Omie's cheapest call.

        Returns the first company dict (None if the app lists none); raises
        an OmieError (AuthenticationError for bad credentials).
        """
        endpoint = endpoint_for('ListarEmpresas')
        try:
            data = self._request(endpoint, 'ListarEmpresas',
                {'pagina': 1, 'registros_por_pagina': 1}, use_cache=False)
        except errors.NoRecords:
            return None
        companies = self._records_of(data, endpoint)
        return companies[0] if companies else None

    def get_statement(self, account_omie_id, start, end, **params):
        """Raw ListarExtrato answer of one account and period.

        start/end are dates or 'dd/mm/aaaa'; an account without movements
        answers with an empty listaMovimentos.
        """
        return self.call('ListarExtrato', nCodCC=account_omie_id,
            dPeriodoInicial=start, dPeriodoFinal=end, **params)

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _guess_dialect(params):
        return HUNGARIAN if ('nPagina' in params
            or 'nRegPorPagina' in params) else SNAKE

    @staticmethod
    def _records_of(data, endpoint):
        if endpoint.list_key:
            return data.get(endpoint.list_key) or []
        # Call of an unknown resource: the list of records in the body.
        for value in data.values():
            if isinstance(value, list) and all(
                    isinstance(item, dict) for item in value):
                return value
        return []

    @staticmethod
    def _empty_list_response(endpoint, params):
        response = {endpoint.list_key: []}
        if endpoint.dialect in PAGING_KEYS:
            page_key, size_key, total_key, count_key = PAGING_KEYS[
                endpoint.dialect]
            response.update({page_key: _to_int(params.get(page_key)) or 1,
                    total_key: 0, count_key: 0})
        return response

    def _scrub(self, text):
        "Remove the App Secret from any text headed for an error or a log"
        text = str(text)
        for secret in (self._secret.reveal(), self._raw_secret.reveal()):
            if secret and secret.strip():
                text = text.replace(secret, MASK)
        return text

    def _request(self, endpoint, call, params, use_cache=True):
        "Send with cache, limits, breaker and fault-aware retries"
        if not self.app_key or not self._secret.reveal():
            raise errors.AuthenticationError(
                'The Omie App Key or App Secret is empty.', call=call)
        body = self._encode(call, params)
        cache_key = recent_key = None
        if use_cache and endpoint.kind != WRITE and self._cache.enabled:
            cache_key = ReadCache.key(endpoint.path, call, body['param'])
            # the App Key only, never the secret
            recent_key = '%s|%s|%s' % (self.base_url, self.app_key, cache_key)
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._count(call, 'cache_hits')
                self.logger.debug('%s %s: answered from cache', call,
                    self._page_label(params))
                return json.loads(cached)

        attempt = 0
        while True:
            self._breaker.before(call)
            try:
                with self._limiter.slot(call, write=endpoint.kind == WRITE):
                    content, data = self._send(endpoint, call, params, body)
            except errors.NoRecords:
                # An empty answer: neither an error nor a success for
                # Omie's misuse rule (the sandbox agrees).
                self._breaker.neutral(call)
                raise
            except errors.OmieError as error:
                recent = _recent_reads.get(recent_key) if (
                    recent_key and isinstance(
                        error, errors.RedundantRequestError)) else None
                if recent is not None:
                    # not an error for Omie's misuse rule: it answered it
                    self._breaker.neutral(call)
                    self._count(call, 'cache_hits')
                    self.logger.info('%s %s: refused as redundant, answered '
                        'with the same read of a moment before', call,
                        self._page_label(params))
                    return json.loads(recent)
                self._count(call, 'errors')
                wait = self._retry_wait(error, endpoint, attempt)
                if error.not_executed and isinstance(
                        error, errors.ConnectionError):
                    # Nothing reached Omie: nothing for it to count.
                    self._breaker.neutral(call)
                else:
                    self._breaker.failure(call)
                if isinstance(error, errors.MisuseBlockedError):
                    # Calling inside the block restarts it: keep this
                    # method quiet until it ends, in every process.
                    self._breaker.trip(call, error.retry_after
                        or errors.MISUSE_BLOCK_SECONDS)
                elif self._breaker.state(call) == 'open':
                    self.logger.warning('%s: %d failures in a row, calls '
                        'paused', call, self._breaker.failures(call))
                    wait = None  # the next attempt would not be sent
                if wait is None:
                    raise
                attempt += 1
                self._count(call, 'retries')
                self._count(call, 'waited', wait)
                self.logger.warning('%s (%s); retry %d of %d in %.1f s',
                    error.message, type(error).__name__, attempt,
                    self.max_retries, wait)
                self._sleep(wait)
                continue
            except BaseException:
                self._breaker.neutral(call)
                raise
            self._breaker.success(call)
            if cache_key is not None:
                self._cache.put(cache_key, content)
                _recent_reads.put(recent_key, content)
            return data

    def _retry_wait(self, error, endpoint, attempt):
        "Seconds to wait before retrying error, or None to give up"
        if not error.transient or attempt >= self.max_retries:
            return None
        if endpoint.kind == WRITE and not error.not_executed:
            # A timeout or 5xx may have run the write: retrying could
            # create it twice.  The caller decides (look it up first).
            return None
        if error.retry_after is not None and error.retry_after > self.max_wait:
            return None  # e.g. the 30-minute misuse block: reschedule
        # Exponential backoff with full jitter.
        backoff = self._rng.uniform(0,
            min(self.backoff_cap, self.backoff_base * 2 ** attempt))
        return max(error.retry_after or 0, backoff)

    def _encode(self, call, params):
        try:
            param = json.loads(json.dumps(params, default=_json_default))
        except (TypeError, ValueError) as exc:
            raise errors.ValidationError(
                f'{call}: parameters cannot be sent to Omie ({exc}).',
                call=call) from None
        return {'call': call, 'param': [param]}

    @staticmethod
    def _page_label(params):
        page = params.get('pagina', params.get('nPagina'))
        return f'page {page}' if page is not None else ''

    def _send(self, endpoint, call, params, body):
        "One HTTP request; returns (body bytes, dict) or raises a typed error"
        url = f'{self.base_url}/api/v1/{endpoint.path}'
        envelope = {'call': call, 'app_key': self.app_key,
            'app_secret': self._secret.reveal(), 'param': body['param']}
        payload = json.dumps(envelope, ensure_ascii=False).encode('utf-8')
        headers = {'Content-Type': 'application/json',
            'Accept': 'application/json', 'User-Agent': self.user_agent}
        started = self._clock()
        try:
            response = self.session.post(url, data=payload, headers=headers,
                timeout=(min(self.connect_timeout, self.timeout)
                    if self.timeout else self.connect_timeout, self.timeout),
                allow_redirects=False)
        except requests.exceptions.ConnectTimeout as exc:
            raise self._connection_error(call, exc, not_executed=True)
        except requests.exceptions.Timeout:
            self._count(call, 'requests')
            raise errors.TimeoutError(
                errors.TimeoutError.describe(call)
                + f' (no answer within {self.timeout} s)', call=call) from None
        except (requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            self._count(call, 'requests')
            raise errors.ServerError(
                errors.ServerError.describe(call)
                + f' ({self._scrub(type(exc).__name__)})', call=call) from None
        except requests.exceptions.ConnectionError as exc:
            raise self._connection_error(call, exc,
                not_executed=self._never_connected(exc))
        except requests.exceptions.RequestException as exc:
            raise self._connection_error(call, exc, not_executed=False)
        self._count(call, 'requests')
        elapsed = self._clock() - started
        self._sample_latency(call, elapsed * 1000)
        self.logger.debug('%s %s %s -> HTTP %s in %.3f s', call,
            endpoint.path, self._page_label(params), response.status_code,
            elapsed)
        data = self._parse(response, call)
        return response.content, data

    @staticmethod
    def _never_connected(exc):
        "True when the error happened before any byte reached Omie"
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, 'reason', reason)
        return isinstance(reason, (urllib3.exceptions.NewConnectionError,
                urllib3.exceptions.ConnectTimeoutError))

    def _connection_error(self, call, exc, not_executed):
        if not_executed is False:
            self._count(call, 'requests')
        reason = exc.args[0] if exc.args else exc
        reason = getattr(reason, 'reason', reason)
        detail = self._scrub(reason)
        if 'refused' in detail.lower():
            detail = 'connection refused'
        error = errors.ConnectionError(
            errors.ConnectionError.describe(call)
            + f' at {self.base_url} ({detail[:200]})', call=call)
        error.not_executed = not_executed
        return error
