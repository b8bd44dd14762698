# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.pool import Pool

from novagestao_omie.omie import records

from .tools import OmieEndToEndTestCase


class FirstSyncTestCase(OmieEndToEndTestCase):
    "The first sync imports parties, categories and bank accounts once"
    sandbox_options = {'seed': 11, 'parties': 40}

    def omie_parties(self):
        return [records.Party.from_omie(p) for p in self.sandbox.dataset.parties]

    def test_first_sync_then_nothing_twice(self):
        state, summary, errors = self.sync()
        self.assertIn(state, {'done', 'partial'})
        parties = self.omie_parties()
        self.assertEqual(summary['party']['created'] + summary['party'][
                'updated'], len(parties))
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Mapping = pool.get('integration.mapping')
            Journal = pool.get('account.statement.journal')
            bindings = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'party'),
                    ])
            self.assertEqual(len(bindings), len(parties))
            mappings = Mapping.search([
                    ('integration', '=', self.integration_id)])
            classifying = [c for c in self.sandbox.dataset.categories
                if c.get('totalizadora') != 'S'
                and c.get('transferencia') != 'S']
            self.assertEqual(len(mappings), len(classifying))
            self.assertTrue(all(m.state == 'unmapped' for m in mappings))
            journals = [b.record for b in Binding.search([
                        ('integration', '=', self.integration_id),
                        ('kind', '=', 'bank_account'),
                        ])]
            self.assertEqual(
                len(set(journals)), len(self.sandbox.dataset.accounts))
            self.assertTrue(all(
                    isinstance(j, Journal) and j.account for j in journals))
            self.assertEqual(
                Journal.search([('external_ids', '=', journals[0]
                            .integration_bindings[0].external_id)]),
                [journals[0]])
            # a CNPJ client carries its identifier and its tags
            with_cnpj = next(p for p in parties
                if len(p.document) == 14 and p.tags
                and records.only_digits(p.document))
            party = Binding.records_of(
                self.integration_id and bindings[0].integration, 'party',
                [with_cnpj.omie_id])[str(with_cnpj.omie_id)]
            codes = {i.code_compact for i in party.identifiers}
            if with_cnpj.document and len(with_cnpj.document) == 14:
                from stdnum.br import cnpj
                if cnpj.is_valid(with_cnpj.document):
                    self.assertIn(with_cnpj.document, codes)
            self.assertEqual(
                {c.name for c in party.categories}, set(with_cnpj.tags))

        # the second run changes nothing
        state, summary, errors = self.sync()
        self.assertEqual(summary['party']['created'], 0)
        self.assertEqual(summary['party']['updated'], 0)
        with self.transaction(readonly=True):
            Binding = Pool().get('integration.binding')
            self.assertEqual(len(Binding.search([
                            ('integration', '=', self.integration_id),
                            ('kind', '=', 'party'),
                            ])), len(parties))

    def test_invalid_and_foreign_documents_warn(self):
        state, summary, errors = self.sync()
        parties = self.omie_parties()
        from novagestao_omie.party import document_identifier
        without = {str(p.omie_id) for p in parties
            if not document_identifier(p.document)}
        warned = {e[1] for e in errors if e[0] == 'party'}
        self.assertTrue(without)
        self.assertEqual(warned, without)
        self.assertEqual(state, 'partial')

    def test_existing_party_with_same_cnpj_is_linked(self):
        parties = [p for p in self.omie_parties() if len(p.document) == 14]
        from novagestao_omie.party import document_identifier
        target = next(p for p in parties if document_identifier(p.document))
        with self.transaction() as transaction:
            pool = Pool()
            Party = pool.get('party.party')
            existing = Party(name="Already here", identifiers=[
                    {'type': 'br_vat', 'code': target.document}])
            existing.save()
            transaction.commit()
            existing_id = existing.id
        self.sync()
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Identifier = pool.get('party.identifier')
            binding, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'party'),
                    ('external_id', '=', str(target.omie_id)),
                    ])
            self.assertEqual(binding.record.id, existing_id)
            self.assertEqual(len(Identifier.search([
                            ('code_compact', '=', target.document)])), 1)

    def test_changed_party_is_updated(self):
        self.sync()
        target = self.omie_parties()[0]
        self.sandbox.change('party', target.omie_id,
            razao_social="Nome Alterado Ltda")
        state, summary, errors = self.sync()
        self.assertEqual(summary['party']['updated'], 1)
        with self.transaction(readonly=True):
            Binding = Pool().get('integration.binding')
            binding, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'party'),
                    ('external_id', '=', str(target.omie_id)),
                    ])
            self.assertEqual(binding.record.name, "Nome Alterado Ltda")
