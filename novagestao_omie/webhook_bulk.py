# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Reading the records of a burst of webhook events with few Omie calls

Omie answers 240 calls a minute per method: a burst of 1,000 events on one
entity, read with one ConsultarContaPagar each, would take more than four
minutes.  The records many events of a batch name are read with a list
instead, as Omie recommends (a list of up to 500 records a page): clients by
their codes (ListarClientes' clientesPorCodigo), titles by the window of
their changes (filtrar_por_data_de).

Omie refuses the same request twice within a minute, and the batches of a
burst follow each other within seconds.  A list read in the last minute is
therefore remembered: it serves the events received before it was read, as
Omie sends an event once its change is done; the events received after it
wait for the minute to pass, and are then read with one list again."""
import datetime as dt
import json
import threading

from .omie import errors, records
from .sync import TITLE_PARAMS

# Below this many records of an entity, one Consultar… each costs less
BULK_MIN = 10
# The clients asked for by code in one ListarClientes
CODES_PER_CALL = 50
TITLE_PAGE_SIZE = 500
# A window is read only while it costs at most one page for this many records
# wanted; past it, the records left are read one by one
RECORDS_PER_PAGE = 10
# Omie's redundant-request window
MEMORY = dt.timedelta(seconds=60)
# Tryton keeps the receipt time of an event to the second
RECEIVED_PRECISION = dt.timedelta(seconds=1)
# The dates of Omie's windows are Brasília's (UTC-3): a window opens the day
# before the oldest event's, in UTC, so that it holds its change
WINDOW_MARGIN = dt.timedelta(days=1)
# Events older than this are read one by one: a window that old would be
# read for a few late retries
WINDOW_AGE_MAX = dt.timedelta(days=2)

ID_KEYS = {
    'party': 'codigo_cliente_omie',
    'payable': 'codigo_lancamento_omie',
    'receivable': 'codigo_lancamento_omie',
    }
LIST_CALLS = {
    'party': 'ListarClientes',
    'payable': 'ListarContasPagar',
    'receivable': 'ListarContasReceber',
    }

# (integration, call, params) -> Read; shared by the batches of a process
_reads = {}
_reads_lock = threading.Lock()


class Read:
    "A list Omie answered: when it was asked and the records it held"

    def __init__(self, asked_at, found):
        self.asked_at = asked_at
        self.found = found


def remembered(key, now):
    with _reads_lock:
        for old in [k for k, r in _reads.items()
                if now - r.asked_at >= MEMORY]:
            del _reads[old]
        return _reads.get(key)


def remember(key, read):
    with _reads_lock:
        _reads[key] = read


class BulkReader:
    """Read the records of one entity named by many events

    read() returns ({id: Omie record}, {id: seconds to wait}); the ids in
    neither are read one by one by the caller."""

    def __init__(self, client, integration_id, clock):
        self.client = client
        self.integration_id = integration_id
        self.clock = clock

    @staticmethod
    def handles(entity, count):
        return entity in LIST_CALLS and count >= BULK_MIN

    def read(self, entity, received):
        """received: {id: when its newest event was received (UTC), or
        None when no event names it (a title's client)}"""
        now = self.clock()
        if entity == 'party':
            ids = sorted(received)
            found, waits = {}, {}
            for start in range(0, len(ids), CODES_PER_CALL):
                chunk = {i: received[i]
                    for i in ids[start:start + CODES_PER_CALL]}
                params = {
                    'clientesPorCodigo': [
                        {'codigo_cliente_omie': i} for i in chunk],
                    'registros_por_pagina': CODES_PER_CALL,
                    }
                chunk_found, chunk_waits = self.read_list(
                    entity, params, chunk, now)
                found.update(chunk_found)
                waits.update(chunk_waits)
            return found, waits
        dates = [r for r in received.values() if r is not None]
        oldest = min(dates) if dates else now
        if now - oldest > WINDOW_AGE_MAX:
            return {}, {}
        params = dict(TITLE_PARAMS,
            filtrar_por_data_de=records.format_date(oldest - WINDOW_MARGIN),
            registros_por_pagina=TITLE_PAGE_SIZE)
        return self.read_list(entity, params, received, now)

    def read_list(self, entity, params, received, now):
        call = LIST_CALLS[entity]
        key = (self.integration_id, call,
            json.dumps(params, sort_keys=True, default=str))
        read = remembered(key, now)
        if read is None:
            try:
                read = self.list(entity, call, params, len(received), now)
            except errors.RedundantRequestError as error:
                # another process asked the same within the minute
                return {}, {i: int(error.retry_after or 60) + 1
                    for i in received}
            remember(key, read)
            # every event asking was received before this list
            return {i: read.found[i] for i in received
                if i in read.found}, {}
        found, late = {}, []
        for external_id, newest_event in received.items():
            if newest_event is not None and (
                    newest_event + RECEIVED_PRECISION > read.asked_at):
                late.append(external_id)
            elif external_id in read.found:
                found[external_id] = read.found[external_id]
        waits = {}
        if len(late) >= BULK_MIN:
            # read again with one list once Omie allows it
            seconds = int((read.asked_at + MEMORY - now).total_seconds()) + 1
            waits = {i: max(seconds, 1) for i in late}
        return found, waits

    def list(self, entity, call, params, wanted, now):
        """Read the pages of the list while they cost at most a page for
        RECORDS_PER_PAGE records wanted"""
        id_key = ID_KEYS[entity]
        pages_allowed = max(1, wanted // RECORDS_PER_PAGE)
        found = {}
        for page in self.client.iterate_pages(call, **dict(params)):
            for raw in page.records:
                try:
                    external_id = records.parse_id(raw.get(id_key))
                except ValueError:
                    continue
                if external_id is not None:
                    found[external_id] = raw
            if page.number < page.total_pages and (
                    page.total_pages > pages_allowed):
                break
        return Read(now, found)
