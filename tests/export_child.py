# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""A process of its own on the database DB_NAME, for the test that kills an
export (tests/test_export_crash.py); the database as tests/sync_child.py
takes it

    python -m tests.export_child prepare OMIE_URL   set up the company and
        the integration (categories on stdin), import, turn the sync
        bidirectional, type and pay supplier invoices of new parties
    python -m tests.export_child export [CALL:N]    run an export; with
        CALL:N, print KILL-ME and wait to be killed once Omie answered the
        N-th call CALL and before what it answered is committed
    python -m tests.export_child import              run a full sync
    python -m tests.export_child count               what Tryton holds
    python -m tests.export_child drop                drop the database

Everything it prints but KILL-ME is one JSON line."""
import datetime as dt
import json
import sys
import time
from decimal import Decimal

from trytond.pool import Pool

from novagestao_integrations_base.tests.tools import run_committed
from novagestao_omie.omie import OmieClient
from novagestao_omie.tests.tools import SANDBOX_TODAY

from . import sync_child

SUPPLIERS = 3
AMOUNT = Decimal('321.45')


def prepare(url, categories):
    result = sync_child.setup(url, categories)
    sync_child.sync()
    transaction, integration_id = sync_child.start()
    with transaction:
        company_id = transaction.context['company']
    invoice_ids = run_committed(sync_child.DB_NAME,
        lambda: _type_invoices(integration_id), context={
            'company': company_id, 'companies': [company_id],
            '_skip_warnings': True})
    result['invoices'] = invoice_ids
    return result


def _type_invoices(integration_id):
    """Turn the export on; create, post and pay in full a supplier invoice
    of each new supplier; return the invoice ids"""
    pool = Pool()
    Account = pool.get('account.account')
    Address = pool.get('party.address')
    Binding = pool.get('integration.binding')
    Identifier = pool.get('party.identifier')
    Integration = pool.get('integration.integration')
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Mapping = pool.get('integration.mapping')
    MoveLine = pool.get('account.move.line')
    Party = pool.get('party.party')
    from novagestao_omie.settlement import OmieAccounts
    from stdnum.br import cnpj

    integration = Integration(integration_id)
    bank, = Binding.search([
            ('integration', '=', integration.id),
            ('kind', '=', 'bank_account'),
            ], order=[('external_id', 'ASC')], limit=1)
    Integration.write([integration], {
            'direction': 'bidirectional',
            'export_from': SANDBOX_TODAY - dt.timedelta(days=30),
            'export_bank_account': bank.id,
            })
    mapping, = Mapping.search([
            ('integration', '=', integration.id),
            ('external_type', '=', 'expense'),
            ], order=[('external_code', 'ASC')], limit=1)
    payable, = Account.search([
            ('type.payable', '=', True),
            ('company', '=', integration.company.id),
            ('closed', '!=', True),
            ], limit=1)
    method = OmieAccounts(integration).payment_method(int(bank.external_id))
    invoice_ids = []
    for index in range(SUPPLIERS):
        base = '%08d0001' % (73100000 + index)
        party = Party(name="Fornecedor Killed %d Ltda" % index,
            account_payable=payable,
            addresses=[Address(street="Rua do Teste, %d" % (index + 1),
                    postal_code='01310-100', city="São Paulo")],
            identifiers=[Identifier(type='br_vat',
                    code=base + cnpj.calc_check_digits(base))])
        party.save()
        invoice = Invoice(company=integration.company, type='in',
            party=party, invoice_date=SANDBOX_TODAY,
            reference='NF-KILL-%d' % index)
        invoice.on_change_type()
        invoice.on_change_party()
        invoice.lines = [Line(account=mapping.target, quantity=1,
                unit_price=AMOUNT, description="Serviço")]
        invoice.save()
        Invoice.post([invoice])
        lines = invoice.pay_invoice(AMOUNT, method, SANDBOX_TODAY)
        MoveLine.reconcile(list(invoice.lines_to_pay) + lines)
        Invoice.process([invoice])
        invoice_ids.append(invoice.id)
    return invoice_ids


def export(die_at=None):
    if die_at:
        name, count = die_at.split(':')
        count = int(count)
        original = OmieClient.call
        seen = []

        def call(self, call, path=None, **params):
            answer = original(self, call, path=path, **params)
            if call == name:
                seen.append(call)
                if len(seen) == count:
                    # Omie holds it, Tryton has not committed its binding
                    print('KILL-ME', flush=True)
                    time.sleep(600)
            return answer
        OmieClient.call = call
    return _run('export')


def _run(trigger):
    transaction, integration_id = sync_child.start()
    with transaction:
        Integration = Pool().get('integration.integration')
        Integration.run_sync([Integration(integration_id)], trigger)
    transaction, integration_id = sync_child.start(readonly=True)
    with transaction:
        Integration = Pool().get('integration.integration')
        run = Integration(integration_id).runs[0]
        return {'state': run.state, 'message': run.message,
            'summary': run.summary(),
            'errors': [[e.entity, e.kind, e.message] for e in run.errors]}


def count():
    transaction, integration_id = sync_child.start(readonly=True)
    with transaction:
        pool = Pool()
        Binding = pool.get('integration.binding')
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        bindings = {}
        for binding in Binding.search([
                    ('integration', '=', integration_id),
                    ('origin', '=', 'export'),
                    ]):
            bindings.setdefault(binding.kind, []).append(str(binding.record))
        return {
            'parties': len(Party.search([
                        ('name', 'like', 'Fornecedor Killed %')])),
            'invoices': [[i.id, i.state] for i in Invoice.search([
                        ('reference', 'like', 'NF-KILL-%')],
                    order=[('id', 'ASC')])],
            'exported': {k: sorted(v) for k, v in bindings.items()},
            }


def main(argv):
    command = argv[0]
    if command == 'prepare':
        result = prepare(argv[1], json.loads(sys.stdin.read()))
    elif command == 'export':
        result = export(argv[1] if len(argv) > 1 else None)
    elif command == 'import':
        result = _run('manual')
    elif command == 'count':
        result = count()
    elif command == 'drop':
        sync_child.drop_db()
        result = {}
    else:
        raise SystemExit("unknown command %r" % command)
    print(json.dumps(result, default=str, sort_keys=True), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
