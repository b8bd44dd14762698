# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The export part of the demo: the user turns the sync bidirectional, types
a supplier, its invoice and the payment in Tryton, and the export sends them
to Omie (the sandbox), whose records are then printed"""
import time
from decimal import Decimal

import sandbox_changes

SUPPLIER = "Papelaria Central Ltda"
SUPPLIER_CNPJ = '11444777000161'
REFERENCE = "NF 4821"
AMOUNT = Decimal('1520.35')
TRYTON_NOTE = "Material de escritório de dezembro - pedido 311"
OMIE_NOTE = "Material de escritório - entrega parcial"


def turn_bidirectional(database, integration_id):
    "Turn the export on, as the user does after confirming the warning"
    from trytond.i18n import gettext
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        Binding = pool.get('integration.binding')
        Integration = pool.get('integration.integration')
        integration = Integration(integration_id)
        with transaction.set_context(
                company=integration.company.id, _skip_warnings=True):
            banks = Binding.search([
                    ('integration', '=', integration.id),
                    ('kind', '=', 'bank_account'),
                    ('record', '!=', None),
                    ], order=[('external_id', 'ASC')], limit=1)
            print("\nThe user turns the sync bidirectional; Tryton asks "
                "first:\n  %s" % gettext(
                    'novagestao_integrations_base.msg_bidirectional_warning',
                    integrations=integration.rec_name))
            Integration.write([integration], {
                    'direction': 'bidirectional',
                    'export_bank_account': banks[0].id if banks else None,
                    })
        transaction.commit()


def type_supplier_invoice(database, integration_id):
    """Create the supplier, post its invoice and pay it in full through the
    payment method of Omie's bank account; return the invoice id"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from novagestao_integrations_base.tests.tools import run_committed
    from novagestao_omie.settlement import OmieAccounts

    def create():
        pool = Pool()
        Account = pool.get('account.account')
        Address = pool.get('party.address')
        Contact = pool.get('party.contact_mechanism')
        Date = pool.get('ir.date')
        Identifier = pool.get('party.identifier')
        Integration = pool.get('integration.integration')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        Mapping = pool.get('integration.mapping')
        MoveLine = pool.get('account.move.line')
        Party = pool.get('party.party')
        integration = Integration(integration_id)
        invoices = Invoice.search([('reference', '=', REFERENCE)])
        if invoices:
            return invoices[0].id
        mapping, = Mapping.search([
                ('integration', '=', integration.id),
                ('state', '=', 'confirmed'),
                ('external_type', '=', 'expense'),
                ], order=[('external_code', 'ASC')], limit=1)
        company = integration.company
        payable, = Account.search([
                ('type.payable', '=', True),
                ('company', '=', company.id),
                ('closed', '!=', True),
                ], limit=1)
        party = Party(name=SUPPLIER, account_payable=payable,
            identifiers=[Identifier(type='br_vat', code=SUPPLIER_CNPJ)],
            addresses=[Address(street="Rua Augusta, 1500\nConsolação",
                    postal_code='01304-001', city="São Paulo")],
            contact_mechanisms=[
                Contact(type='email', value='contas@papelariacentral.com.br'),
                Contact(type='phone', value='(11) 3251-4000')])
        party.save()
        today = Date.today()
        invoice = Invoice(company=company, type='in', party=party,
            invoice_date=today, reference=REFERENCE,
            description="Material de escritório de dezembro")
        invoice.on_change_type()
        invoice.on_change_party()
        invoice.lines = [Line(account=mapping.target, quantity=1,
                unit_price=AMOUNT, description="Papel A4 e toner")]
        invoice.save()
        Invoice.post([invoice])
        method = OmieAccounts(integration).payment_method(
            int(integration.export_bank_account.external_id))
        lines = invoice.pay_invoice(AMOUNT, method, today)
        MoveLine.reconcile(list(invoice.lines_to_pay) + lines)
        Invoice.process([invoice])
        return invoice.id

    with Transaction().start(database, 0, readonly=True):
        Integration = Pool().get('integration.integration')
        company = Integration(integration_id).company.id
    invoice_id = run_committed(database, create, context={
            'company': company, 'companies': [company],
            '_skip_warnings': True})
    with Transaction().start(database, 0, readonly=True):
        pool = Pool()
        Integration = pool.get('integration.integration')
        Invoice = pool.get('account.invoice')
        invoice = Invoice(invoice_id)
        bank = Integration(integration_id).export_bank_account
        print("\nIn Tryton, the user creates the supplier %s (CNPJ %s), "
            "posts its invoice %s of R$ %s on %s and pays it in full "
            "from the bank account %s." % (
                SUPPLIER, SUPPLIER_CNPJ, REFERENCE, AMOUNT,
                invoice.invoice_date.strftime('%d/%m/%Y'),
                bank.record_name))
    return invoice_id


def print_omie_records(database, integration_id, invoice_id, sandbox_url):
    "What the sandbox holds now of what was exported, read through its API"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from novagestao_omie import codes
    from novagestao_omie.omie import OmieClient
    from novagestao_omie.omie.sandbox import Sandbox

    with Transaction().start(database, 0, readonly=True):
        pool = Pool()
        Integration = pool.get('integration.integration')
        Invoice = pool.get('account.invoice')
        integration = Integration(integration_id)
        invoice = Invoice(invoice_id)
        party_code = codes.make(integration, codes.PARTY, invoice.party.id)
        title_code = codes.make(integration, codes.PAYABLE, invoice.id)
    client = OmieClient(Sandbox.DEFAULT_APP_KEY, Sandbox.DEFAULT_APP_SECRET,
        base_url=sandbox_url)
    try:
        party = client.call('ConsultarCliente',
            codigo_cliente_integracao=party_code)
        title = client.call('ConsultarContaPagar',
            codigo_lancamento_integracao=title_code)
    finally:
        client.close()
    print("\nOmie (the sandbox) now holds:")
    print("  client   %s  %s  CNPJ %s  tags %s" % (
            party['codigo_cliente_integracao'], party['razao_social'],
            party.get('cnpj_cpf', ''),
            ', '.join(t['tag'] for t in party.get('tags') or [])))
    print("  payable  %s  R$ %.2f  due %s  category %s  status %s, "
        "paid R$ %.2f" % (
            title['codigo_lancamento_integracao'], title['valor_documento'],
            title['data_vencimento'], title.get('codigo_categoria', ''),
            title.get('status_titulo', ''), title.get('valor_pag') or 0))


def change_both_sides(database, integration_id, invoice_id, sandbox_url):
    """Before the next sync, the note of the supplier invoice is changed in
    Tryton by one user and in Omie, on its payable, by another"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from novagestao_integrations_base.tests.tools import run_committed

    def change_here():
        pool = Pool()
        Binding = pool.get('integration.binding')
        Invoice = pool.get('account.invoice')
        invoice = Invoice(invoice_id)
        binding, = Binding.search([
                ('integration', '=', integration_id),
                ('record', '=', str(invoice)),
                ])
        old = invoice.description
        # what Tryton lets a user change on a posted invoice
        Invoice.write([invoice], {'description': TRYTON_NOTE})
        return old, int(binding.external_id)

    with Transaction().start(database, 0, readonly=True):
        Integration = Pool().get('integration.integration')
        company = Integration(integration_id).company.id
    old, omie_id = run_committed(database, change_here, context={
            'company': company, 'companies': [company]})
    # Omie stamps changes to the second: make it newer than the last sync
    time.sleep(1)
    sandbox_changes.change(sandbox_url, 'payable', omie_id,
        {'observacao': OMIE_NOTE})
    print("\nBefore the next sync, the description \"%s\" of the invoice %s "
        "changes in both systems:\n  in Tryton to \"%s\"\n"
        "  in Omie, on its payable, to \"%s\"" % (
            old, REFERENCE, TRYTON_NOTE, OMIE_NOTE))


def print_conflicts(database, integration_id):
    "The conflicts waiting for a person, field by field"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0, readonly=True):
        Conflict = Pool().get('integration.conflict')
        conflicts = Conflict.search([
                ('integration', '=', integration_id),
                ('state', '=', 'open'),
                ])
        for conflict in conflicts:
            print("\nData conflict waiting in Integrations › Data "
                "Conflicts: %s" % conflict.rec_name)
            print("  %-20s %-42s %-42s" % ("field", "Omie", "Tryton"))
            for line in conflict.lines:
                print("  %-20s %-42s %-42s%s" % (line.name, line.remote_value,
                        line.local_value, "  <- differs" if line.differs
                        else ""))
            print("  The user chooses Keep External Version or Keep Tryton "
                "Version; until then the record is neither sent nor "
                "updated.")
        return bool(conflicts)


def typed_before(database):
    "Whether an earlier run of the demo typed and exported the invoice"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0, readonly=True):
        Invoice = Pool().get('account.invoice')
        return bool(Invoice.search([('reference', '=', REFERENCE)]))


def export_demo(database, integration_id, sandbox_url, synchronise):
    "Run the export part of the demo; return whether its runs succeeded"
    if typed_before(database):
        # the sandbox starts afresh at each run of the demo: what was
        # exported to it before is not there any more
        print("\nThe export part ran on this database before, against a "
            "sandbox that keeps nothing between runs: ./setup/demo --reset "
            "shows it again.")
        return True
    turn_bidirectional(database, integration_id)
    invoice_id = type_supplier_invoice(database, integration_id)
    ok = synchronise(database, integration_id, "Export to Omie", 'export')
    print_omie_records(database, integration_id, invoice_id, sandbox_url)
    ok = synchronise(database, integration_id,
        "Sync after the export (nothing comes back twice)") and ok
    change_both_sides(database, integration_id, invoice_id, sandbox_url)
    ok = synchronise(database, integration_id,
        "Sync after the changes on both sides") and ok
    return print_conflicts(database, integration_id) and ok

