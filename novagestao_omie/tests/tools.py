# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Helpers to run the local Omie sandbox in tests"
import datetime as dt
import functools

from ..omie.sandbox import Sandbox, SandboxSettings, generate_dataset

SANDBOX_TODAY = dt.date(2026, 11, 21)


@functools.lru_cache(maxsize=None)
def _dataset(seed, parties, titles, movements):
    return generate_dataset(
        seed=seed, parties=parties, titles=titles, movements=movements,
        today=SANDBOX_TODAY)


def start_sandbox(seed=1, parties=20, titles=60, movements=30, **settings):
    """Start a sandbox on a free loopback port; return (sandbox, server)

    Omie's redundant-call rule is off unless asked for: tests repeat the
    same reads on purpose."""
    settings.setdefault('redundant_window', 0)
    sandbox = Sandbox(
        _dataset(seed, parties, titles, movements),
        settings=SandboxSettings(**settings))
    server = sandbox.serve(host='127.0.0.1', port=0)
    return sandbox, server
