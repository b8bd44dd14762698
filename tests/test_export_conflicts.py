# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Conflicts of a bidirectional sync: a party or an invoice exported to
Omie, then changed in both systems, through the sandbox's HTTP API"""
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME

from .posting import request
from .test_export import ExportCase


def party_errors(errors):
    "The errors of parties (the sandbox's other records wait on mappings)"
    return [e for e in errors if e[0] == 'party']


class ExportConflictTestCase(ExportCase):

    def export_party(self):
        "Export a supplier of the test; return (party id, Omie client)"
        _, account_id = self.expense
        invoice_id = self.create_invoice('in', account_id, '80.00')
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            party_id = Invoice(invoice_id).party.id
        return party_id, self.store().party_by_code[self.code('P', party_id)]

    def set_policy(self, policy):
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'conflict_policy': policy})
            transaction.commit()

    def change_here(self, party_id, email=None, phone=None):
        with self.transaction() as transaction:
            Contact = Pool().get('party.contact_mechanism')
            for type_, value in [('email', email), ('phone', phone)]:
                if value is None:
                    continue
                contact, = Contact.search([
                        ('party', '=', party_id), ('type', '=', type_)])
                contact.value = value
                contact.save()
            transaction.commit()

    def change_in_omie(self, client, **changes):
        self.sandbox.change('party', client['codigo_cliente_omie'], **changes)

    def party_contacts(self, party_id):
        with self.transaction(readonly=True):
            Party = Pool().get('party.party')
            party = Party(party_id)
            return party.email, party.phone

    def conflicts(self, state=None):
        with self.transaction(readonly=True):
            Conflict = Pool().get('integration.conflict')
            return [(c.id, c.state, c.decided_by, c.differences,
                    [(l.name, l.remote_value, l.local_value, l.differs)
                        for l in c.lines])
                for c in Conflict.search([
                        ('integration', '=', self.integration_id),
                        ] + ([('state', '=', state)] if state else []),
                    order=[('id', 'ASC')])]

    def decide(self, conflict_id, button):
        with self.transaction() as transaction:
            Conflict = Pool().get('integration.conflict')
            getattr(Conflict, button)([Conflict(conflict_id)])
            transaction.commit()

    def test_ask_waits_then_each_version_kept(self):
        "Asked: the record waits, each side's change kept by a person"
        party_id, client = self.export_party()
        omie_id = str(client['codigo_cliente_omie'])

        # found by the export: it reads Omie's client before sending
        self.change_here(party_id, email='contas@tryton.example.com')
        self.change_in_omie(client, email='contas@omie.example.com')
        state, summary, errors = self.sync('export')
        self.assertEqual(state, 'partial')
        self.assertEqual(summary['party']['conflicts'], 1)
        self.assertEqual(summary['party']['exported'], 0)
        self.assertEqual([(e[0], e[1], e[2]) for e in errors],
            [('party', omie_id, 'data_conflict')])
        (conflict_id, state, decided_by, differences, lines), = (
            self.conflicts())
        self.assertEqual((state, decided_by), ('open', None))
        self.assertIn(('Email', 'contas@omie.example.com',
                'contas@tryton.example.com', True), lines)
        self.assertEqual([l for l in lines if l[3]], [
                ('Email', 'contas@omie.example.com',
                    'contas@tryton.example.com', True)])
        self.assertEqual(differences, 'Email')
        # blocked both ways until decided
        state, summary, errors = self.sync('manual')
        self.assertEqual(client['email'], 'contas@omie.example.com')
        self.assertEqual(self.party_contacts(party_id)[0],
            'contas@tryton.example.com')
        self.assertEqual(len(self.conflicts()), 1)
        self.assertIn(('party', omie_id, 'data_conflict'),
            [(e[0], e[1], e[2]) for e in errors])

        self.decide(conflict_id, 'keep_remote')
        self.assertEqual(self.party_contacts(party_id)[0],
            'contas@omie.example.com')
        state, summary, errors = self.sync('manual')
        self.assertEqual(party_errors(errors), [])
        self.assertEqual(summary.get('party', {}).get('exported', 0), 0)
        self.assertEqual(self.conflicts('open'), [])

        # found by the import this time, the other version kept
        self.change_here(party_id, phone='(21) 98765-4321')
        self.change_in_omie(client, telefone1_ddd='31',
            telefone1_numero='3333-2222')
        state, summary, errors = self.sync('manual')
        self.assertEqual(summary['party']['conflicts'], 1)
        conflict_id = self.conflicts('open')[0][0]
        self.assertEqual(self.party_contacts(party_id)[1], '(21) 98765-4321')
        self.decide(conflict_id, 'keep_local')
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        self.assertEqual(summary['party']['exported'], 1)
        self.assertEqual(
            (client['telefone1_ddd'], client['telefone1_numero']),
            ('21', '987654321'))
        self.assertEqual(client['email'], 'contas@omie.example.com')
        # agreed again: the next runs neither send nor bring anything back
        state, summary, errors = self.sync('manual')
        self.assertEqual(party_errors(errors), [])
        self.assertEqual(summary.get('party', {}).get('exported', 0), 0)
        self.assertEqual(summary['party']['updated'], 0)
        self.assertEqual(self.party_contacts(party_id),
            ('contas@omie.example.com', '(21) 98765-4321'))
        self.assertEqual([c[1:3] for c in self.conflicts()],
            [('remote', 'user'), ('local', 'user')])

    def test_policies_apply_the_winner_and_say_so(self):
        "Omie wins, then Tryton wins: applied at once, the run counts it"
        party_id, client = self.export_party()
        self.set_policy('remote')
        self.change_here(party_id, email='a@tryton.example.com')
        self.change_in_omie(client, email='a@omie.example.com')
        state, summary, errors = self.sync('manual')
        self.assertEqual(party_errors(errors), [])
        self.assertEqual(summary['party']['conflicts'], 1)
        self.assertEqual(self.party_contacts(party_id)[0],
            'a@omie.example.com')
        self.assertEqual(client['email'], 'a@omie.example.com')

        self.set_policy('local')
        self.change_here(party_id, email='b@tryton.example.com')
        self.change_in_omie(client, email='b@omie.example.com')
        state, summary, errors = self.sync('manual')
        self.assertEqual(party_errors(errors), [])
        self.assertEqual(summary['party']['conflicts'], 1)
        self.assertEqual(summary['party']['exported'], 1)
        self.assertEqual(client['email'], 'b@tryton.example.com')
        self.assertEqual(self.party_contacts(party_id)[0],
            'b@tryton.example.com')
        self.assertEqual([c[1:3] for c in self.conflicts()],
            [('remote', 'policy'), ('local', 'policy')])

        # a change on one side only is no conflict: it is carried over
        self.change_in_omie(client, email='c@omie.example.com')
        state, summary, errors = self.sync('manual')
        self.assertEqual(self.party_contacts(party_id)[0],
            'c@omie.example.com')
        self.assertEqual(summary['party'].get('conflicts'), 0)
        self.assertEqual(len(self.conflicts()), 2)

    def edit_invoice(self, invoice_id, **values):
        "Change what a posted invoice lets a user change"
        def edit():
            Invoice = Pool().get('account.invoice')
            Invoice.write([Invoice(invoice_id)], values)
        request(DB_NAME, 0, self.context(), edit)

    def bound_invoice(self, omie_id):
        "(invoice id, state, total, binding origin) bound to the Omie title"
        with self.transaction(readonly=True):
            Binding = Pool().get('integration.binding')
            binding, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'payable'),
                    ('external_id', '=', str(omie_id)),
                    ])
            invoice = binding.record
            return (invoice.id, invoice.state, invoice.total_amount,
                invoice.description, binding.origin)

    def test_titles_texts_and_amounts(self):
        "A title changed in both systems: its texts kept, its amount replaced"
        _, account_id = self.expense
        invoice_id = self.create_invoice('in', account_id, '240.00')
        self.sync('export')
        title = self.store().title_by_code['CP'][self.code('CP', invoice_id)]

        # Omie alone changes its note: taken here, not sent back
        self.sandbox.change('payable', title.id, observacao="Pago em 2x")
        state, summary, errors = self.sync('manual')
        self.assertEqual(self.bound_invoice(title.id)[3], "Pago em 2x")
        state, summary, errors = self.sync('export')
        self.assertEqual(summary.get('payable', {}).get('exported', 0), 0)

        # both change it: asked, Tryton's version kept and sent
        self.edit_invoice(invoice_id, description="Revisado no Tryton")
        self.sandbox.change('payable', title.id,
            observacao="Revisado no Omie")
        state, summary, errors = self.sync('manual')
        self.assertEqual(summary['payable']['conflicts'], 1)
        (conflict_id, state, _, differences, lines), = self.conflicts('open')
        self.assertEqual([l for l in lines if l[3]], [
                ('Description', "Revisado no Omie", "Revisado no Tryton",
                    True)])
        self.assertEqual(title.rec['observacao'], "Revisado no Omie")
        self.decide(conflict_id, 'keep_local')
        state, summary, errors = self.sync('export')
        self.assertEqual(summary['payable']['exported'], 1)
        self.assertEqual(title.rec['observacao'], "Revisado no Tryton")
        state, summary, errors = self.sync('manual')
        self.assertEqual(summary['payable'].get('conflicts'), 0)
        self.assertEqual(self.bound_invoice(title.id)[:2],
            (invoice_id, 'posted'))

        # Omie wins: its new amount cancels and replaces the posted invoice
        self.set_policy('remote')
        self.edit_invoice(invoice_id, description="Outra revisão")
        self.sandbox.change('payable', title.id, valor_documento=260.0)
        state, summary, errors = self.sync('manual')
        self.assertEqual(summary['payable']['conflicts'], 1)
        new_id, state, total, _, origin = self.bound_invoice(title.id)
        self.assertNotEqual(new_id, invoice_id)
        self.assertEqual((state, total, origin),
            ('posted', Decimal('260.00'), 'import'))
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            self.assertEqual(Invoice(invoice_id).state, 'cancelled')
        # the cancelled invoice is no longer Omie's title: nothing is sent
        state, summary, errors = self.sync('export')
        self.assertEqual(summary.get('payable', {}).get('exported', 0), 0)
        self.assertFalse(title.cancelled)
        self.assertEqual([c[1:3] for c in self.conflicts()],
            [('local', 'user'), ('remote', 'policy')])
