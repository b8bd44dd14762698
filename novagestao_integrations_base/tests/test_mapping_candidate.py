# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"The runners-up of a suggestion and the evidence of the users' choices"
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .test_mapping import (
    _entities, company_chart, create_chart, create_integration,
    create_mappings)
from .tools import DBTestCase, get_brl


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


class MappingCandidateTestCase(DBTestCase):
    "Test the candidates of the suggestions and the learning of choices"
    modules = ['novagestao_integrations_base']

    @with_transaction()
    def test_three_candidates_with_reasons(self):
        "A suggestion keeps its best three candidates, of its type only"
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            mapping, = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ])
            Mapping.suggest([mapping])
            candidates = mapping.candidates
            self.assertTrue(1 < len(candidates) <= 3)
            self.assertEqual([c.rank for c in candidates],
                list(range(1, len(candidates) + 1)))
            self.assertEqual(candidates[0].target, mapping.target)
            self.assertEqual(candidates[0].reason, mapping.reason)
            scores = [c.score for c in candidates]
            self.assertEqual(scores, sorted(scores, reverse=True))
            for candidate in candidates:
                self.assertTrue(candidate.reason)
                self.assertTrue(candidate.target.type.expense)
            # a new suggestion replaces them
            Mapping.suggest([mapping])
            self.assertEqual(len(mapping.candidates), len(candidates))

    @with_transaction()
    def test_choose_runner_up(self):
        """Choosing a runner-up confirms it and rejects the first, which is
        never offered again for the category"""
        pool = Pool()
        Candidate = pool.get('integration.mapping.candidate')
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            mapping, = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ])
            Mapping.suggest([mapping])
            first, second = mapping.candidates[:2]
            first_target, second_target = first.target, second.target
            Candidate.choose([second])
            mapping = Mapping(mapping.id)
            self.assertEqual(mapping.state, 'confirmed')
            self.assertEqual(mapping.target, second_target)
            self.assertEqual(
                [r.target for r in mapping.rejections], [first_target])

            # the category is suggested again: the rejection holds
            Mapping.write([mapping], {'state': 'unmapped', 'target': None})
            Mapping.suggest([mapping])
            self.assertNotIn(first_target,
                [c.target for c in Mapping(mapping.id).candidates])

    @with_transaction()
    def test_choices_teach_other_companies(self):
        """A choice in one company is evidence for a category of the same
        name in another; a rejection there lowers the account"""
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        name = "Gastos Plataforma Xpto"
        with company_chart() as (integration, accounts, _):
            mapping, = create_mappings(integration, [
                    ('2.09', name, 'expense'),
                    ])
            Mapping.suggest([mapping])
            self.assertNotEqual(mapping.target, accounts["Tarifas Bancárias"])
            Mapping.write([mapping], {
                    'target': str(accounts["Tarifas Bancárias"]),
                    'state': 'confirmed',
                    })

        company = create_company(currency=get_brl())
        with set_company(company):
            other_accounts, _ = create_chart(company)
            other = create_integration(company)
            mapping, = create_mappings(other, [('9.99', name, 'expense')])
            Mapping.suggest([mapping])
            self.assertEqual(
                mapping.target, other_accounts["Tarifas Bancárias"])
            self.assertIn(" 0.5 ", " %s " % mapping.reason.replace(
                    ';', ' '))

            # the same company's own choices weigh more
            second, = create_mappings(other, [('9.98', name, 'expense')])
            Mapping.write([mapping], {
                    'target': str(other_accounts["Energia Elétrica"]),
                    'state': 'confirmed',
                    })
            Mapping.suggest([second])
            self.assertEqual(
                second.target, other_accounts["Energia Elétrica"])

            # a rejection counts against the account: one choice and one
            # rejection cancel out, and the other company's choice leads
            Mapping.reject([second])
            third, = create_mappings(other, [('9.97', name, 'expense')])
            Mapping.suggest([third])
            self.assertEqual(
                third.target, other_accounts["Tarifas Bancárias"])
            energy, = [c for c in third.candidates
                if c.target == other_accounts["Energia Elétrica"]]
            self.assertNotIn("chosen", energy.reason)

    @with_transaction()
    def test_siblings_break_ties(self):
        "The accounts confirmed for the same group lead equal candidates"
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, types):
            expense = types["Despesas"]
            low, high = Account.create([{
                        'name': "Despesas Diversas", 'code': code,
                        'company': integration.company.id,
                        'type': expense.id,
                        } for code in ['5.1.01', '5.2.01']])
            anchor_low, anchor_high = Account.create([{
                        'name': "Energia Filial", 'code': code,
                        'company': integration.company.id,
                        'type': expense.id,
                        } for code in ['5.1.02', '5.2.02']])
            done, mapping = create_mappings(integration, [
                    ('2.05.01', "Energia Elétrica", 'expense'),
                    ('2.05.02', "Despesas Diversas", 'expense'),
                    ])
            for anchor, expected in [
                    (anchor_high, high), (anchor_low, low)]:
                Mapping.write([done], {
                        'target': str(anchor), 'state': 'confirmed'})
                Mapping.write([mapping], {
                        'state': 'unmapped', 'target': None})
                Mapping.suggest([mapping])
                self.assertEqual(mapping.target, expected)
