# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The Omie sync engine: one step per entity, in dependency order

Each step reads Omie page by page, hands a page of parsed records to the
importer of its Tryton model, commits, and moves the entity's cursor only once
everything the cursor covers is committed."""
import datetime as dt
import logging
from dataclasses import dataclass, field

from trytond.pool import Pool
from trytond.transaction import Transaction

from .omie import errors, records

logger = logging.getLogger(__name__)

# Omie stamps changes to the second in São Paulo time and may commit them a
# little late: each incremental run reads again a window before the cursor.
OVERLAP = dt.timedelta(hours=1)
# Lists without a date filter (categories, bank accounts) are read again only
# after this delay: Omie refuses the same read within 60 seconds, and their
# changes also arrive through webhooks.
REFERENCE_REFRESH = dt.timedelta(minutes=10)


@dataclass
class Step:
    "How one entity is read from Omie and which importer takes it"
    entity: str
    call: str
    parser: type
    importer: str  # 'model.name|classmethod'
    params: dict = field(default_factory=dict)
    incremental: bool = True
    weight: int = 1

    def importer_method(self):
        model, method = self.importer.split('|')
        return getattr(Pool().get(model), method)


def omie_date(value):
    return value.strftime('%d/%m/%Y')


class OmieSync:
    "Synchronise one Omie integration inside one sync run"

    def __init__(self, integration, run, client=None):
        self.integration = integration
        self.run = run
        self.client = client or integration.omie_client()

    @classmethod
    def steps(cls):
        "The entity steps in dependency order; connectors append to it"
        return [
            Step('category', 'ListarCategorias', records.Category,
                'integration.mapping|omie_import_categories',
                incremental=False),
            Step('bank_account', 'ListarContasCorrentes', records.BankAccount,
                'account.statement.journal|omie_import_bank_accounts',
                incremental=False),
            Step('party', 'ListarClientes', records.Party,
                'party.party|omie_import_parties', weight=2),
            ]

    def selected_steps(self):
        return [s for s in self.steps()
            if self.integration.is_selected(s.entity)]

    def synchronise(self):
        steps = self.selected_steps()
        total = sum(s.weight for s in steps) or 1
        done = 0
        try:
            for step in steps:
                self.run_step(step, done / total * 100, step.weight / total)
                done += step.weight
        finally:
            self.run.set_progress(
                self.run.progress, remote_calls=self.client.calls)
            self.client.close()

    def cursor_params(self, step):
        "The Omie filters of an incremental read from the entity's cursor"
        pool = Pool()
        Cursor = pool.get('integration.cursor')
        cursor = Cursor.get(self.integration, step.entity)
        if not step.incremental or not cursor:
            return {}
        since = dt.datetime.fromisoformat(cursor) - OVERLAP
        return {'filtrar_por_data_de': omie_date(since)}

    def run_step(self, step, start_progress, share):
        pool = Pool()
        Cursor = pool.get('integration.cursor')
        Error = pool.get('integration.sync.error')
        if not step.incremental:
            last_read = Cursor.get(self.integration, step.entity)
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            if last_read and (
                    now - dt.datetime.fromisoformat(last_read)
                    < REFERENCE_REFRESH):
                return
        importer = step.importer_method()
        params = dict(step.params, **self.cursor_params(step))
        newest = None
        for page in self.client.iterate_pages(step.call, **params):
            parsed, failed = [], 0
            for raw in page.records:
                try:
                    parsed.append(step.parser.from_omie(raw))
                except ValueError as exception:
                    failed += 1
                    Error.record(
                        self.run, step.entity, external_id_of(raw),
                        'validation', str(exception),
                        suggested_fix=None, payload=raw)
            counts = importer(self.integration, self.run, parsed)
            counts['failed'] = counts.get('failed', 0) + failed
            self.run.add_counts(step.entity, **counts)
            for record in parsed:
                altered = getattr(record, 'altered_at', None)
                if altered and (newest is None or altered > newest):
                    newest = altered
            total_pages = page.total_pages or page.number
            self.run.set_progress(
                start_progress + share * 100 * page.number / total_pages,
                remote_calls=self.client.calls)
            Transaction().commit()
        if not step.incremental:
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            Cursor.set(self.integration, step.entity, now.isoformat())
            Transaction().commit()
        elif newest:
            Cursor.set(self.integration, step.entity, newest.isoformat())
            Transaction().commit()


def external_id_of(raw):
    for key in ('codigo_cliente_omie', 'codigo_lancamento_omie', 'nCodCC',
            'codigo', 'nCodLanc', 'nCodTitulo'):
        if raw.get(key) not in (None, ''):
            return str(raw[key])
    return None


def error_kind(exception):
    "The sync error kind of an Omie error"
    return {
        'authentication': 'authentication',
        'timeout': 'timeout',
        'connection': 'timeout',
        'rate_limit': 'rate_limit',
        'validation': 'validation',
        }.get(getattr(exception, 'kind', None), 'remote_error')


__all__ = ['OmieSync', 'Step', 'errors', 'error_kind']
