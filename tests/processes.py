# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Processes that tests and benchmarks start in a session of their own
(trytond-worker and its pool, trytond, Chromium and its helpers)"""
import os
import signal
import subprocess


def stop_process_group(process, timeout=30):
    """Stop a process started with start_new_session=True and every process
    of its group: SIGTERM, then SIGKILL when they are not gone in timeout
    seconds"""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        process.poll()
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
