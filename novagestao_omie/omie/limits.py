"""Client-side guards that keep us inside Omie's consumption rules.

Omie allows 960 requests/minute per IP, 240/minute and 4 in flight per
method (writes: none in parallel), refuses the same read repeated within
60 s, and blocks a method for 30 minutes after 10 consecutive failures.
Waiting here is cheaper than being refused there, so:

* RateLimiter   sliding windows + per-method concurrency slots;
* CircuitBreaker stops calling a failing method before Omie's block,
  counting consecutive errors in a GuardStore that every client (and
  process) of the same App Key shares;
* ReadCache     answers a repeated read from memory inside that window.

All three are thread-safe: one client may be shared by worker threads.
Time comes from injected ``clock``/``sleep`` so tests never really wait.
"""
import collections
import contextlib
import json
import threading
import time
from typing import NamedTuple, Optional

from . import errors

__all__ = ['RateLimiter', 'CircuitBreaker', 'GuardState', 'GuardStore',
    'MemoryGuardStore', 'ReadCache', 'canonical_json']


class RateLimiter:
    "At most N requests per window per method and overall, M in flight"

    def __init__(self, per_method=240, overall=960, concurrent=4,
            concurrent_writes=1, window=60.0, sleep=time.sleep,
            clock=time.monotonic):
        self.per_method = per_method
        self.overall = overall
        self.concurrent = concurrent
        self.concurrent_writes = concurrent_writes
        self.window = window
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._sent = collections.deque()
        self._sent_by_method = collections.defaultdict(collections.deque)
        self._slots = {}
        # Time believed to have passed during sleeps the clock did not see
        # (a recording sleep in tests with a frozen clock).
        self._skew = 0.0
        self.waited = 0.0

    def _now(self):
        return self._clock() + self._skew

    def _semaphore(self, method, write):
        with self._lock:
            slot = self._slots.get(method)
            if slot is None:
                size = self.concurrent_writes if write else self.concurrent
                slot = self._slots[method] = threading.BoundedSemaphore(
                    max(1, size))
            return slot

    @contextlib.contextmanager
    def slot(self, method, write=False):
        "Hold a request slot of method for the duration of the block"
        semaphore = self._semaphore(method, write)
        # Concurrency waits for another thread to finish: a real wait.
        with semaphore:
            self.wait_turn(method)
            yield

    def _delay(self, method, now):
        horizon = now - self.window
        delay = 0.0
        for sent, limit in ((self._sent, self.overall),
                (self._sent_by_method[method], self.per_method)):
            while sent and sent[0] <= horizon:
                sent.popleft()
            if limit and len(sent) >= limit:
                delay = max(delay, sent[-limit] + self.window - now)
        return delay

    def wait_turn(self, method):
        "Block until a request of method is allowed, then count it"
        while True:
            with self._lock:
                now = self._now()
                delay = self._delay(method, now)
                if delay <= 0:
                    self._sent.append(now)
                    self._sent_by_method[method].append(now)
                    return
            before = self._clock()
            self._sleep(delay)
            with self._lock:
                self.waited += delay
                if self._clock() == before:
                    self._skew += delay


class GuardState(NamedTuple):
    "What Omie's misuse rule remembers of one method of one App Key"
    consecutive_errors: int = 0
    # Wall-clock time (epoch seconds) before which no call may be sent:
    # Omie's announced block, our own pause or another process's trial.
    blocked_until: Optional[float] = None


class GuardStore:
    """Where a CircuitBreaker keeps its state, per method.

    Omie counts consecutive errors per IP + App Key + method, whatever
    process sends them, so every client of an App Key must share one store:
    MemoryGuardStore serves the clients of one process that are given the
    same instance; a server stores it in its database (Tryton:
    integration.remote.guard).  Every method is one short, atomic step.
    """

    def get(self, method):
        "Return the GuardState of method"
        raise NotImplementedError

    def add_error(self, method, pause=None):
        """Count one more consecutive error of method and return the new
        GuardState; pause(count) gives the time until which calls are
        refused, or None to leave blocked_until as it is"""
        raise NotImplementedError

    def clear(self, method):
        "A success: forget the errors and the block of method"
        raise NotImplementedError

    def block(self, method, until, reset_errors=False):
        "Refuse calls of method until then (keep a later block)"
        raise NotImplementedError

    def claim(self, method, seen_until, until):
        """Set blocked_until to until only if it is still seen_until; True
        when this caller won (the one trial call after a pause)"""
        raise NotImplementedError

    def reset(self, method=None):
        raise NotImplementedError


class MemoryGuardStore(GuardStore):
    "GuardStore in memory: shared by the clients given the same instance"

    def __init__(self):
        self._lock = threading.Lock()
        self._states = {}

    def get(self, method):
        with self._lock:
            return self._states.get(method, GuardState())

    def add_error(self, method, pause=None):
        with self._lock:
            state = self._states.get(method, GuardState())
            count = state.consecutive_errors + 1
            until = pause(count) if pause else None
            if until is None:
                until = state.blocked_until
            state = self._states[method] = GuardState(count, until)
            return state

    def clear(self, method):
        with self._lock:
            self._states.pop(method, None)

    def block(self, method, until, reset_errors=False):
        with self._lock:
            state = self._states.get(method, GuardState())
            if state.blocked_until is not None:
                until = max(until, state.blocked_until)
            self._states[method] = GuardState(
                0 if reset_errors else state.consecutive_errors, until)

    def claim(self, method, seen_until, until):
        with self._lock:
            state = self._states.get(method, GuardState())
            if state.blocked_until != seen_until:
                return False
            self._states[method] = state._replace(blocked_until=until)
            return True

    def reset(self, method=None):
        with self._lock:
            if method is None:
                self._states.clear()
            else:
                self._states.pop(method, None)


class CircuitBreaker:
    """Per-method breaker on a GuardStore: closed -> open after `threshold`
    consecutive errors -> half-open (one trial call, whoever claims it
    first) after `cooldown` seconds.

    Omie blocks a method for 30 minutes at its 10th consecutive error
    (`omie_limit`), so the default threshold (8) stops two errors earlier.
    A failed trial at the last count below the limit pauses for as long as
    Omie's block would last: the next error would cost that block anyway.
    A block Omie announced is kept in the store until it ends, so that no
    client, in no process, calls inside it (which would restart it).
    Times are wall-clock seconds: the store may be shared across machines.
    """

    def __init__(self, threshold=8, cooldown=60.0, clock=time.time,
            store=None, omie_limit=10,
            long_pause=errors.MISUSE_BLOCK_SECONDS, trial_hold=120.0):
        self.threshold = threshold
        self.cooldown = cooldown
        self.omie_limit = omie_limit
        self.long_pause = long_pause
        # A trial's answer is awaited this long before another may start.
        self.trial_hold = trial_hold
        self._clock = clock
        self.store = store if store is not None else MemoryGuardStore()
        self._lock = threading.Lock()
        # Requests of this process sent and not answered yet, per method:
        # they may all fail, so they count against the threshold.
        self._in_flight = collections.Counter()

    def state(self, method):
        state = self.store.get(method)
        if (state.blocked_until is not None
                and self._clock() < state.blocked_until):
            return 'open'
        if self.threshold and state.consecutive_errors >= self.threshold:
            return 'half-open'
        return 'closed'

    def failures(self, method):
        return self.store.get(method).consecutive_errors

    def before(self, method):
        """Raise CircuitOpenError unless a request of method may be sent;
        each allowed request must end with success, failure or neutral"""
        with self._lock:
            state = self.store.get(method)
            now = self._clock()
            until = state.blocked_until
            if until is not None and now < until:
                raise errors.CircuitOpenError(retry_after=until - now,
                    call=method)
            errors_ = state.consecutive_errors
            if self.threshold and errors_ >= self.threshold:
                # Half-open: one trial, in all processes.
                if (self._in_flight[method]
                        or not self.store.claim(method, until,
                            now + self.trial_hold)):
                    raise errors.CircuitOpenError(retry_after=1, call=method)
            elif (self.threshold and
                    errors_ + self._in_flight[method] >= self.threshold):
                # The requests in flight could reach the threshold: wait
                # for their answers.
                raise errors.CircuitOpenError(retry_after=1, call=method)
            self._in_flight[method] += 1

    def _done(self, method):
        with self._lock:
            if self._in_flight[method] > 0:
                self._in_flight[method] -= 1

    def _pause(self, count):
        "Until when to refuse calls after count consecutive errors, or None"
        if not self.threshold or count < self.threshold:
            return None
        if self.omie_limit and count >= self.omie_limit - 1:
            return self._clock() + max(self.cooldown, self.long_pause)
        return self._clock() + self.cooldown

    def success(self, method):
        self._done(method)
        state = self.store.get(method)
        if state.consecutive_errors or state.blocked_until is not None:
            self.store.clear(method)

    def failure(self, method):
        self._done(method)
        return self.store.add_error(method, self._pause).consecutive_errors

    def neutral(self, method):
        "The request ended with an answer that is neither error nor success"
        self._done(method)

    def trip(self, method, seconds):
        """Refuse calls of method for `seconds` (Omie itself blocked it);
        Omie forgets the errors that led to its block"""
        self.store.block(method, self._clock() + max(seconds, 1),
            reset_errors=True)

    def reset(self, method=None):
        self.store.reset(method)


def canonical_json(value):
    "Stable text of a JSON-able value: same data, same text"
    return json.dumps(value, sort_keys=True, separators=(',', ':'),
        ensure_ascii=False, default=str)


class ReadCache:
    "Small LRU of read responses that expire after `ttl` seconds"

    def __init__(self, ttl=55.0, maxsize=256, clock=time.monotonic):
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._lock = threading.Lock()
        self._entries = collections.OrderedDict()

    @property
    def enabled(self):
        return bool(self.ttl and self.maxsize)

    @staticmethod
    def key(path, call, params):
        # Only the call and its parameters: credentials never enter keys.
        return f'{path}{call}:{canonical_json(params)}'

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key, value):
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        with self._lock:
            return len(self._entries)
