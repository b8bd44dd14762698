"""Client-side guards that keep us inside Omie's consumption rules.

Omie allows 960 requests/minute per IP, 240/minute and 4 in flight per
method (writes: none in parallel), refuses the same read repeated within
60 s, and blocks a method for 30 minutes after 10 consecutive failures.
Waiting here is cheaper than being refused there, so:

* RateLimiter   sliding windows + per-method concurrency slots;
* CircuitBreaker stops calling a failing method before Omie's block;
* ReadCache     answers a repeated read from memory inside that window.

All three are thread-safe: one client may be shared by worker threads.
Time comes from injected ``clock``/``sleep`` so tests never really wait.
"""
import collections
import contextlib
import json
import threading
import time

from . import errors

__all__ = ['RateLimiter', 'CircuitBreaker', 'ReadCache', 'canonical_json']


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


class CircuitBreaker:
    """Per-method breaker: closed -> open after `threshold` consecutive
    failures -> half-open (one trial call) after `cooldown` seconds.

    Omie blocks a method for 30 minutes at the 10th consecutive error, so
    the default threshold (8) stops a little earlier.
    """

    def __init__(self, threshold=8, cooldown=60.0, clock=time.monotonic):
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = collections.Counter()
        self._open_until = {}
        self._trial = set()

    def state(self, method):
        with self._lock:
            until = self._open_until.get(method)
            if until is None:
                return 'closed'
            if method in self._trial or self._clock() >= until:
                return 'half-open'
            return 'open'

    def failures(self, method):
        with self._lock:
            return self._failures[method]

    def before(self, method):
        "Raise CircuitOpenError unless a request of method may be sent"
        with self._lock:
            until = self._open_until.get(method)
            if until is None:
                return
            now = self._clock()
            if now < until:
                raise errors.CircuitOpenError(retry_after=until - now,
                    call=method)
            if method in self._trial:
                # Another thread is running the half-open trial.
                raise errors.CircuitOpenError(retry_after=1, call=method)
            self._trial.add(method)

    def success(self, method):
        with self._lock:
            self._failures.pop(method, None)
            self._open_until.pop(method, None)
            self._trial.discard(method)

    def failure(self, method):
        with self._lock:
            self._failures[method] += 1
            trial_failed = method in self._trial
            self._trial.discard(method)
            if self.threshold and (trial_failed
                    or self._failures[method] >= self.threshold):
                self._open_until[method] = self._clock() + self.cooldown

    def trip(self, method, seconds):
        "Open now for `seconds` (Omie itself blocked the method)"
        with self._lock:
            self._failures[method] = max(self._failures[method],
                self.threshold or 1)
            self._trial.discard(method)
            until = self._clock() + max(seconds, self.cooldown)
            self._open_until[method] = max(
                until, self._open_until.get(method, until))

    def reset(self, method=None):
        with self._lock:
            if method is None:
                self._failures.clear()
                self._open_until.clear()
                self._trial.clear()
            else:
                self._failures.pop(method, None)
                self._open_until.pop(method, None)
                self._trial.discard(method)


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
