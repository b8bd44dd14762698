"""Omie's consumption rules and the sandbox's fault injection.

Rules (each switchable in SandboxSettings):

* 960 requests/minute per IP -> HTTP 429 "Too many requests";
* 240 requests/minute per IP + app_key + method -> HTTP 429;
* 4 simultaneous requests per IP + app_key + method -> SOAP-ENV:Client-1880;
* the same call with the same params again inside ``redundant_window``
  seconds (reads only) -> SOAP-ENV:Client-6 "Consumo redundante detectado.
  Aguarde N segundos...";
* ``misuse_threshold`` consecutive failed requests on IP + app_key + method
  -> MISUSE_API_PROCESS, HTTP 425, for ``misuse_block_seconds``; any call
  inside the block restarts it.

All windows run on ``settings.clock`` so tests move time by hand.
"""
import math
import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field, fields
from typing import Callable

from .faults import OmieFault


@dataclass
class SandboxSettings:
    "Everything tunable at run time (also via POST /_sandbox/settings)"
    # time: epoch seconds; everything "now"/"today" derives from it
    clock: Callable[[], float] = time.time
    # used for injected latency/timeouts and webhook retry pauses
    sleep: Callable[[float], None] = time.sleep
    # status_titulo spelling: 'A VENCER' (spaced, default) or 'AVENCER'
    status_spelling: str = 'A VENCER'
    page_size_cap: int = 500
    auth_fault_status: int = 500
    company_active: bool = True
    # the bank fee (tarifa) each settlement made through the API is charged,
    # as by a bank account with fees set in Omie: withheld from a receipt,
    # added to a payment
    settlement_fee: float = 0.0
    # consumption rules
    limits_enabled: bool = True
    rate_per_minute: int = 960
    method_rate_per_minute: int = 240
    method_concurrency: int = 4
    redundant_window: float = 60.0
    misuse_threshold: int = 10
    misuse_block_seconds: float = 1800.0
    misuse_counts_empty_page: bool = False
    parallel_header: bool = False
    # fault injection
    seed: int = 1
    error_rate: float = 0.0
    latency: float = 0.0
    html_error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 90.0
    fail_next: list = field(default_factory=list)
    # webhooks
    webhook_url: str = ''
    webhook_sync: bool = False
    webhook_attempts: int = 3
    webhook_retry_delay: float = 2.0
    webhook_timeout: float = 7.0

    CALLABLES = ('clock', 'sleep')

    def as_json(self):
        data = {f.name: getattr(self, f.name) for f in fields(self)
            if f.name not in self.CALLABLES}
        data['fail_next'] = list(self.fail_next)
        return data

    def update(self, changes):
        "Apply a dict of changes (from JSON); unknown names raise KeyError"
        names = {f.name: f for f in fields(self)}
        for key, value in changes.items():
            if key not in names or key in self.CALLABLES:
                raise KeyError(key)
            current = getattr(self, key)
            if isinstance(current, bool):
                value = bool(value)
            elif isinstance(current, int) and not isinstance(value, bool):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            elif key == 'fail_next':
                value = list(value or [])
            setattr(self, key, value)


# The canned faults of fail_next / error_rate, by short name.
CANNED = {
    'redundant': lambda: OmieFault('SOAP-ENV:Client-6',
        'ERROR: Consumo redundante detectado. Aguarde 60 segundos para '
        'tentar novamente (REDUNDANT).', counts=False),
    'concurrency': lambda: concurrency_fault(),
    'rate_limit': lambda: rate_fault(60),
    'misuse': lambda: misuse_fault(1800),
    'auth': lambda: OmieFault('SOAP-ENV:Server',
        'A chave de acesso não está preenchida ou não é válida.'),
    'empty': lambda: OmieFault('SOAP-ENV:Client-5113',
        'ERROR: Não existem registros para a página [1]!'),
    'processing': lambda: OmieFault('SOAP-ENV:Client-1100',
        'ERROR: Esta requisição já foi processada ou está sendo processada e '
        'você pode tentar novamente às 23:59:59. (1)', counts=False),
    'server': lambda: OmieFault('SOAP-ENV:Client-8020',
        'ERROR: Ocorreu uma falha interna. Tente novamente em alguns '
        'instantes.', counts=False),
    'validation': lambda: OmieFault('SOAP-ENV:Client-102',
        'ERROR: Falha simulada de validação.', counts=False),
}
RANDOM_FAULTS = ['server', 'processing', 'concurrency', 'broken']


def concurrency_fault():
    return OmieFault('SOAP-ENV:Client-1880',
        'ERROR: Já existe uma requisição desse método sendo executada e você '
        'pode tentar novamente em alguns instantes. (1)', counts=False)


def rate_fault(retry_after):
    fault = OmieFault('SOAP-ENV:Client-429', 'Too many requests', 429,
        counts=False)
    fault.retry_after = max(1, int(math.ceil(retry_after)))
    return fault


def misuse_fault(seconds):
    return OmieFault('MISUSE_API_PROCESS',
        'ERROR: API bloqueada por consumo indevido. Tente novamente em %d '
        'segundos.' % max(1, int(math.ceil(seconds))), 425, counts=False)


def redundant_fault(seconds):
    return OmieFault('SOAP-ENV:Client-6',
        'ERROR: Consumo redundante detectado. Aguarde %d segundos para '
        'tentar novamente (REDUNDANT).' % max(1, int(math.ceil(seconds))),
        counts=False)


class Injection:
    "What fault injection decided for one request"

    def __init__(self, kind, fault=None, spec=None):
        # 'fault' | 'html' | 'broken' | 'timeout' | 'lost_answer' (the call
        # runs, then the answer times out)
        self.kind = kind
        self.fault = fault
        self.spec = spec or {}


class Rules:
    "Thread-safe bookkeeping of Omie's limits, on the settings' clock"

    def __init__(self, settings):
        self.settings = settings
        self.lock = threading.Lock()
        self.random = random.Random(settings.seed)
        self.reset()

    def reset(self):
        with self.lock:
            self.global_hits = defaultdict(deque)     # ip -> stamps
            self.method_hits = defaultdict(deque)     # key -> stamps
            self.in_flight = defaultdict(int)         # key -> count
            self.redundant = {}                       # (key, params) -> t
            self.failures = defaultdict(int)          # key -> consecutive
            self.blocked_until = {}                   # key -> t

    def now(self):
        return self.settings.clock()

    @staticmethod
    def _trim(hits, now):
        while hits and hits[0] <= now - 60:
            hits.popleft()

    # -- per request -------------------------------------------------------
    def admit_global(self, ip):
        "960/min per IP; every request counts, good or bad"
        s = self.settings
        if not s.limits_enabled or not s.rate_per_minute:
            return
        now = self.now()
        with self.lock:
            hits = self.global_hits[ip]
            self._trim(hits, now)
            if len(hits) >= s.rate_per_minute:
                raise rate_fault(hits[0] + 60 - now)
            hits.append(now)

    def check_block(self, key):
        "Inside a misuse block every call restarts the block"
        s = self.settings
        if not s.limits_enabled or not s.misuse_threshold:
            return
        now = self.now()
        with self.lock:
            until = self.blocked_until.get(key)
            if until is None:
                return
            if now >= until:
                del self.blocked_until[key]
                self.failures[key] = 0
                return
            self.blocked_until[key] = now + s.misuse_block_seconds
            raise misuse_fault(s.misuse_block_seconds)

    def admit_method(self, key):
        "240/min then 4 in flight per IP + app_key + method (leave() after)"
        s = self.settings
        if not s.limits_enabled:
            with self.lock:
                self.in_flight[key] += 1
            return
        now = self.now()
        with self.lock:
            hits = self.method_hits[key]
            self._trim(hits, now)
            if s.method_rate_per_minute and \
                    len(hits) >= s.method_rate_per_minute:
                raise rate_fault(hits[0] + 60 - now)
            if s.method_concurrency and \
                    self.in_flight[key] >= s.method_concurrency:
                hits.append(now)
                raise concurrency_fault()
            hits.append(now)
            self.in_flight[key] += 1

    def leave(self, key):
        with self.lock:
            self.in_flight[key] = max(0, self.in_flight[key] - 1)

    def in_flight_count(self, key):
        with self.lock:
            return self.in_flight[key]

    def check_redundant(self, key, canonical):
        s = self.settings
        if not s.limits_enabled or not s.redundant_window:
            return
        now = self.now()
        with self.lock:
            seen = self.redundant.get((key, canonical))
            if seen is not None and now - seen < s.redundant_window:
                raise redundant_fault(s.redundant_window - (now - seen))

    def record(self, key, canonical, fault, read):
        "After the call: misuse counter and the redundancy memory"
        s = self.settings
        now = self.now()
        with self.lock:
            if fault is None:
                self.failures[key] = 0
                if read and s.redundant_window:
                    self.redundant[(key, canonical)] = now
                    if len(self.redundant) > 50000:
                        self._forget_old(now)
                return
            if not fault.counts:
                return
            if fault.faultcode == 'SOAP-ENV:Client-5113' and \
                    not s.misuse_counts_empty_page:
                return
            self.failures[key] += 1
            if s.limits_enabled and s.misuse_threshold and \
                    self.failures[key] >= s.misuse_threshold:
                self.blocked_until[key] = now + s.misuse_block_seconds

    def _forget_old(self, now):
        window = self.settings.redundant_window
        for item, seen in list(self.redundant.items()):
            if now - seen >= window:
                del self.redundant[item]

    # -- fault injection ---------------------------------------------------
    def injection(self, call_name):
        s = self.settings
        with self.lock:
            for index, spec in enumerate(s.fail_next):
                wanted = spec.get('call') if isinstance(spec, dict) else None
                if wanted and wanted != call_name:
                    continue
                del s.fail_next[index]
                return self._from_spec(spec)
            roll = self.random.random
            if s.timeout_rate and roll() < s.timeout_rate:
                return Injection('timeout')
            if s.html_error_rate and roll() < s.html_error_rate:
                return Injection('html')
            if s.error_rate and roll() < s.error_rate:
                name = self.random.choice(RANDOM_FAULTS)
                if name == 'broken':
                    return Injection('broken')
                return Injection('fault', CANNED[name]())
        return None

    @staticmethod
    def _from_spec(spec):
        """fail_next items: a short name ('html', 'broken', 'timeout',
        'lost_answer',
        'redundant', 'concurrency', 'rate_limit', 'misuse', 'auth', 'empty',
        'processing', 'server', 'validation') or a dict with either
        {"kind": name} or {"faultcode", "faultstring", "status"}."""
        if isinstance(spec, str):
            spec = {'kind': spec}
        kind = spec.get('kind')
        if kind in ('html', 'broken', 'timeout', 'lost_answer'):
            return Injection(kind, spec=spec)
        if kind in CANNED:
            fault = CANNED[kind]()
        else:
            fault = OmieFault(spec.get('faultcode', 'SOAP-ENV:Client-8020'),
                spec.get('faultstring', 'ERROR: Falha simulada.'),
                int(spec.get('status', 500)), counts=False)
        if 'status' in spec:
            fault.status = int(spec['status'])
        return Injection('fault', fault, spec)


def settings_from_json(data, base=None):
    settings = base or SandboxSettings()
    settings.update(data)
    return settings


__all__ = ['SandboxSettings', 'Rules', 'Injection', 'asdict']
