"""What an OmieClient counts: requests, retries, waits and cache hits per
method, and a sample of its answer times for their percentiles."""
# The answer times kept per method, for its percentiles
LATENCY_SAMPLES = 10000


def percentile(samples, rank):
    """The rank-th percentile (nearest rank) of the sorted samples, rounded
    to the millisecond; None without samples"""
    if not samples:
        return None
    index = max(0, -(-rank * len(samples) // 100) - 1)
    return round(samples[min(index, len(samples) - 1)])


class ClientMetrics:
    "The counters part of OmieClient"

    @property
    def stats(self):
        "Snapshot of counters: requests sent, retries, cache hits, errors"
        with self._lock:
            stats = {key: value for key, value in self._stats.items()
                if key != 'by_call'}
            stats['by_call'] = {call: dict(counts)
                for call, counts in self._stats['by_call'].items()}
        stats['throttled_seconds'] = self._limiter.waited
        return stats

    def latencies(self):
        "{call: [milliseconds]}: the answer times of the requests sent"
        with self._lock:
            return {call: list(samples)
                for call, samples in self._latencies.items()}

    def method_stats(self):
        """{call: {requests, retries, waited, p50_ms, p95_ms}} of the
        methods called: waited is the seconds slept before retrying (Omie's
        "wait N seconds" or the backoff after its errors)"""
        stats = self.stats['by_call']
        latencies = self.latencies()
        result = {}
        for call, counts in stats.items():
            samples = sorted(latencies.get(call, []))
            result[call] = {
                'requests': counts['requests'],
                'retries': counts['retries'],
                'waited': counts['waited'],
                'p50_ms': percentile(samples, 50),
                'p95_ms': percentile(samples, 95),
                }
        return result

    def _count(self, call, what, amount=1):
        with self._lock:
            self._stats[what] += amount
            per_call = self._stats['by_call'].setdefault(call, {
                    'requests': 0, 'retries': 0, 'cache_hits': 0,
                    'errors': 0, 'waited': 0.0})
            per_call[what] += amount
            if what == 'requests':
                self.calls += amount

    def _sample_latency(self, call, milliseconds):
        "Keep the answer time of a request of call (reservoir sampling)"
        with self._lock:
            samples = self._latencies.setdefault(call, [])
            seen = self._latency_seen[call] = (
                self._latency_seen.get(call, 0) + 1)
            if len(samples) < LATENCY_SAMPLES:
                samples.append(milliseconds)
            else:
                index = self._sample_rng.randrange(seen)
                if index < LATENCY_SAMPLES:
                    samples[index] = milliseconds
