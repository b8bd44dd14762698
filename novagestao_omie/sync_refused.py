# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The records that Tryton refuses wait alone

A chunk of records is imported in one transaction.  When Tryton refuses it
(a UserError: a fiscal year without invoice sequences, a rule another
module adds, a constraint…), all the chunk did is rolled back and its
records are imported again one by one: the record Tryton refuses waits as a
pending error that carries Tryton's own message, and the others import.
Pending records are read again by later runs (OmieSync.releasable), a few at
each run, until the cause is fixed."""
from trytond.exceptions import UserError, UserWarning
from trytond.i18n import gettext
from trytond.pool import Pool

from .omie import records
from .settlement import month_key

# What Tryton raises when it refuses a record: errors for the user to fix,
# never a bug or an outage (those end the run or the step)
REFUSALS = (UserError, UserWarning)


class ChunkRefused(Exception):
    "Tryton refused to build or post a shared chunk at once"

    def __init__(self, chunk_id, exception):
        super().__init__(chunk_id, exception)
        self.chunk_id = chunk_id
        self.exception = exception


class RefusedRecords:
    "The part of OmieSync that isolates the records Tryton refuses"

    def import_isolated(self, step, raws):
        """Import raws in a transaction of their own and return them
        parsed; when Tryton refuses them, import them one by one"""
        try:
            return self.with_locks(self.import_records, step, raws)
        except REFUSALS as exception:
            if len(raws) > 1:
                return [record for raw in raws
                    for record in self.import_isolated(step, [raw])]
            self.with_locks(self.import_refused, step, raws[0], exception)
            # the cursor moves past it: the pending error reads it again
            return parse_records(step, raws)

    def record_refused(self, step, raw, exception):
        """Record raw as pending with the reason Tryton gave
        Return its external id"""
        pool = Pool()
        Error = pool.get('integration.sync.error')
        external_id = refused_id(step, raw)
        Error.record(
            self.run, step.entity, external_id, 'validation',
            gettext('novagestao_omie.msg_record_refused',
                error=self.integration.describe_exception(exception)),
            suggested_fix=gettext('novagestao_omie.msg_record_refused_fix'),
            payload=raw)
        return external_id

    def import_refused(self, step, raw, exception):
        "Record raw as pending and count it failed"
        self.record_refused(step, raw, exception)
        self.run.add_counts(step.entity, failed=1)

    def post_refused(self, step, raw, exception):
        """Record as pending raw whose draft Tryton refused to post: its
        binding forgets what it holds, so the retry rewrites and posts it"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        external_id = self.record_refused(step, raw, exception)
        bindings = list(Binding.lookup(
                self.integration, step.entity, [external_id]).values())
        for binding in bindings:
            binding.content_hash = binding.material_hash = None
        Binding.save(bindings)


def refused_id(step, raw):
    """The external id of a refused record: the one its importer keys its
    errors with (a month of a bank account for a statement)"""
    try:
        record = step.parser.from_omie(raw)
    except ValueError:
        record = None
    if isinstance(record, records.Statement):
        if record.start_date:
            return month_key(record.account_omie_id, record.start_date)
    elif record is not None and getattr(record, 'omie_id', None):
        return str(record.omie_id)
    return external_id_of(raw)


def external_id_of(raw):
    "The Omie id of a raw record that cannot be parsed"
    for key in ('codigo_cliente_omie', 'codigo_lancamento_omie', 'nCodCC',
            'codigo', 'nCodLanc', 'nCodTitulo'):
        if raw.get(key) not in (None, ''):
            return str(raw[key])
    return None


def parse_records(step, raws):
    "The records of the step parsed from raws; the unreadable are left out"
    parsed = []
    for raw in raws:
        try:
            record = step.parser.from_omie(raw)
        except ValueError:
            continue  # its import records the error
        if record is not None:
            parsed.append(record)
    return parsed
