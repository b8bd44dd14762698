# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"The suggestion engine alone: no database"
import unittest

from novagestao_integrations_base.suggest import (
    Account, Category, Suggester, compatible, describe, is_family,
    load_synonyms, normalise, parent_code, tokens)
from novagestao_integrations_base.suggest_concepts import Qualifiers

CHART = [
    Account(1, "Folha de Pagamento", 'expense'),
    Account(2, "Pró-labore", 'expense'),
    Account(3, "Aluguel de Imóveis", 'expense'),
    Account(4, "Energia Elétrica", 'expense'),
    Account(5, "Tarifas Bancárias", 'expense'),
    Account(6, "Juros Passivos", 'expense'),
    Account(7, "ICMS sobre Vendas", 'expense'),
    Account(8, "ICMS Substituição Tributária", 'expense'),
    Account(9, "INSS", 'expense'),
    Account(10, "ISS sobre Serviços", 'expense'),
    Account(11, "Material de Expediente", 'expense'),
    Account(20, "Vendas de Mercadorias", 'revenue'),
    Account(21, "Receita de Prestação de Serviços", 'revenue'),
    Account(22, "Juros Recebidos", 'revenue'),
    Account(23, "Aluguéis Recebidos", 'revenue'),
    Account(30, "Empréstimos e Financiamentos", 'other'),
    Account(31, "Bancos Conta Movimento", 'other'),
    ]
NAMES = {a.id: a.name for a in CHART}


class NormaliseTestCase(unittest.TestCase):
    "Normalisation of Portuguese accounting names"

    def test_case_and_accents(self):
        self.assertEqual(
            normalise("DESPESAS COM PESSOAL"),
            normalise("despesas com pessoal"))
        self.assertEqual(normalise("Água"), normalise("agua"))
        self.assertEqual(normalise("Prestação"), normalise("PRESTACAO"))

    def test_code_prefix(self):
        self.assertEqual(
            normalise("2.01.03 – Despesas com Pessoal"),
            normalise("Despesas com Pessoal"))
        self.assertEqual(
            normalise("3.1.1.01 Salários"), normalise("Salários"))
        # a number that is part of the name stays
        self.assertNotEqual(normalise("13º Salário"), normalise("Salário"))

    def test_stop_words_and_plurals(self):
        self.assertEqual(
            normalise("Despesa de Aluguel"),
            normalise("Despesas com Aluguéis"))
        self.assertEqual(normalise("Comissões"), normalise("Comissão"))
        self.assertEqual(normalise("Encargos Sociais"),
            normalise("encargo social"))
        self.assertEqual(normalise("Bancários"), normalise("Bancárias"))

    def test_abbreviations(self):
        self.assertEqual(
            normalise("Desp. Bancárias"), normalise("Despesas Bancárias"))
        self.assertEqual(
            tokens("Rec. de Vendas"), tokens("Receitas de Vendas"))
        self.assertEqual(
            normalise("Juros Rec."), normalise("Juros Recebidos"))
        self.assertEqual(
            normalise("Mat. Escritório"), normalise("Material de Escritório"))
        self.assertEqual(
            normalise("Frete s/ Compras"), normalise("Frete sobre Compras"))
        self.assertEqual(
            normalise("Encargos c/ Pessoal"),
            normalise("Encargos com Pessoal"))
        self.assertEqual(normalise("VT"), normalise("Vale Transporte"))
        self.assertEqual(normalise("13º Salário"),
            normalise("Décimo Terceiro Salário"))

    def test_english(self):
        "A name in English reads as the Portuguese one, in its order"
        for english, portuguese in [
                ("Sales returns", "Devoluções de Vendas"),
                ("Misc expenses", "Despesas Diversas"),
                ("Raw materials", "Matéria-prima"),
                ("Accounting fees", "Honorários Contábeis"),
                ("Other income", "Outras Receitas"),
                ("Travel expenses", "Despesas de Viagens"),
                ("Health insurance", "Plano de Saúde"),
                ]:
            self.assertEqual(normalise(english), normalise(portuguese))
        # English words in a Portuguese name keep its order
        self.assertEqual(
            normalise("Outsourcing de TI"),
            normalise("Terceirização de Informática"))

    def test_acronyms_and_kinds(self):
        "Acronyms expand; a brand or a kind brings the name of its kind"
        self.assertEqual(normalise("HE"), normalise("Horas Extras"))
        self.assertEqual(normalise("MOD"), normalise("Mão de obra direta"))
        self.assertEqual(normalise("MP"), normalise("Matéria-prima"))
        self.assertIn(tokens("Combustível")[0], tokens("Diesel"))
        self.assertIn(tokens("Veículos")[0], tokens("Aluguel de carro"))
        self.assertIn(tokens("Máquina")[0], tokens("Empilhadeira"))
        self.assertEqual(
            tokens("Energia Elétrica"), tokens("Energia Elétrica Cemig")[:2])
        # the GPS of a tracker is no social security slip
        self.assertEqual(normalise("Rastreador GPS"), normalise("Rastreador"))
        self.assertEqual(normalise("GPS tracker"), normalise("Rastreador"))
        self.assertEqual(normalise("GPS"), "gps")
        # once only
        self.assertEqual(tokens("Veículos carro").count(
                tokens("Veículos")[0]), 1)

    def test_acronym_is_not_a_stop_word(self):
        "DAS (the Simples Nacional slip) is not the article 'das'"
        self.assertEqual(tokens("DAS"), ('das',))
        self.assertEqual(tokens("Guia DAS"), ('guia', 'das'))
        self.assertEqual(tokens("Guia das Despesas"), ('guia', 'despes'))

    def test_empty(self):
        self.assertEqual(normalise(''), '')
        self.assertEqual(normalise(None), '')


class SynonymTableTestCase(unittest.TestCase):
    "The shipped table of Brazilian accounting synonyms"

    def test_shipped_table(self):
        groups = dict(load_synonyms())
        self.assertGreater(len(groups), 80)
        for label, terms in groups.items():
            self.assertTrue(terms, label)
        for term in ["Despesas com Pessoal", "Folha de Pagamento",
                "Salários e Encargos"]:
            self.assertIn(term.lower(), groups['Folha de pagamento'])
        self.assertIn('receita de vendas', groups['Vendas de mercadorias'])

    def test_family(self):
        self.assertTrue(is_family("Família: pessoal"))
        self.assertTrue(is_family("familia de impostos"))
        self.assertFalse(is_family("Folha de pagamento"))


class SuggesterTestCase(unittest.TestCase):
    "Ranking, type safety and reasons"

    @classmethod
    def setUpClass(cls):
        cls.suggester = Suggester(CHART)

    def best(self, name, kind, suggester=None, **values):
        suggestions = (suggester or self.suggester).rank(
            Category(name, name, kind, **values), limit=None)
        return suggestions

    def assertBest(self, name, kind, expected, **values):
        suggestions = self.best(name, kind, **values)
        self.assertTrue(suggestions, name)
        self.assertEqual(
            NAMES[suggestions[0].account], expected,
            "%s: %s" % (name, [
                    (NAMES[s.account], s.score, s.reasons)
                    for s in suggestions[:3]]))
        return suggestions[0]

    def test_exact_name(self):
        best = self.assertBest(
            "Energia Elétrica", 'expense', "Energia Elétrica")
        self.assertEqual(best.score, 100)
        self.assertEqual(best.reasons, (('name', 100),))

    def test_similar_name(self):
        best = self.assertBest(
            "Material Expediente Filial", 'expense', "Material de Expediente")
        self.assertEqual(best.reasons[0][0], 'name')
        self.assertLess(best.score, 100)

    def test_synonyms(self):
        best = self.assertBest(
            "Despesas com Pessoal", 'expense', "Folha de Pagamento")
        code, score, label = best.reasons[0]
        self.assertEqual((code, label), ('synonym', "Folha de pagamento"))
        self.assertEqual(score, round(best.score))
        self.assertBest(
            "Receita de Vendas", 'revenue', "Vendas de Mercadorias")
        self.assertBest("Conta de Luz", 'expense', "Energia Elétrica")
        self.assertBest("Papelaria", 'expense', "Material de Expediente")
        self.assertBest("Juros Pagos", 'expense', "Juros Passivos")

    def test_abbreviated_category(self):
        self.assertBest("Desp. Bancárias", 'expense', "Tarifas Bancárias")
        self.assertBest("Rec. Serviços", 'revenue',
            "Receita de Prestação de Serviços")

    def test_short_acronyms_match_their_synonyms_not_their_spelling(self):
        "ISS is not INSS although the names differ by one letter"
        self.assertBest("ISS", 'expense', "ISS sobre Serviços")
        self.assertBest("INSS", 'expense', "INSS")

    def test_ties_go_to_the_closer_name(self):
        self.assertBest("ICMS", 'expense', "ICMS sobre Vendas")

    def test_revenue_never_gets_an_expense_account(self):
        for name in ["Juros", "Aluguel", "Folha de Pagamento",
                "Energia Elétrica", "Tarifas Bancárias"]:
            for suggestion in self.best(name, 'revenue'):
                account = self.suggester.accounts[
                    self.suggester._index[suggestion.account]]
                self.assertEqual(account.kind, 'revenue', name)
        self.assertBest("Juros", 'revenue', "Juros Recebidos")
        self.assertBest("Aluguel", 'revenue', "Aluguéis Recebidos")

    def test_expense_never_gets_a_revenue_account(self):
        for name in ["Vendas de Mercadorias", "Juros Recebidos",
                "Receita de Serviços"]:
            for suggestion in self.best(name, 'expense'):
                self.assertNotEqual(
                    self.suggester.accounts[
                        self.suggester._index[suggestion.account]].kind,
                    'revenue', name)
        self.assertBest("Juros", 'expense', "Juros Passivos")

    def test_other_gets_balance_sheet_accounts_only(self):
        "A category of another type never gets a revenue or expense account"
        self.assertBest(
            "Empréstimos Bancários", 'other',
            "Empréstimos e Financiamentos")
        for name in ["Energia", "Juros", "Vendas de Mercadorias",
                "Adiantamento salarial", "Tarifas Bancárias"]:
            for suggestion in self.best(name, 'other'):
                self.assertEqual(
                    self.suggester.accounts[
                        self.suggester._index[suggestion.account]].kind,
                    'other', name)
        # even when the history says otherwise
        for suggestion in self.suggester.rank(Category(
                    'x', "Energia", 'other', usage={4: 9},
                    party_usage={4: 3}, learned={4: 2}), limit=None):
            self.assertNotEqual(suggestion.account, 4)
        # a category of unknown type may get any account
        self.assertBest("Energia", None, "Energia Elétrica")

    def test_compatible(self):
        self.assertTrue(compatible('revenue', 'revenue'))
        self.assertFalse(compatible('revenue', 'expense'))
        self.assertFalse(compatible('revenue', 'other'))
        self.assertFalse(compatible('expense', 'revenue'))
        self.assertFalse(compatible('other', 'revenue'))
        self.assertFalse(compatible('other', 'expense'))
        self.assertTrue(compatible('other', 'other'))
        self.assertTrue(compatible(None, 'expense'))

    def test_usage_history(self):
        "Usage raises an account and says how often it was used"
        name = "Serviços Diversos"
        without = self.best(name, 'expense')
        used = self.assertBest(
            name, 'expense', "Aluguel de Imóveis", usage={3: 14})
        self.assertIn(('usage', 14), used.reasons)
        self.assertGreater(used.score, max(
                s.score for s in without if s.account == 3))
        # the parties' history is weaker: it lifts an unrelated name only
        party = self.assertBest(
            "Compras Avulsas", 'expense', "Energia Elétrica",
            party_usage={4: 5})
        self.assertIn(('party_usage', 5), party.reasons)
        self.assertBest(
            "ISS", 'expense', "ISS sobre Serviços", party_usage={4: 5})

    def test_usage_of_incompatible_account_is_ignored(self):
        for suggestion in self.best(
                "Vendas", 'revenue', usage={1: 50}, party_usage={2: 9}):
            self.assertNotIn(suggestion.account, {1, 2})

    def test_excluded_accounts(self):
        best = self.best("Energia Elétrica", 'expense', excluded={4})
        self.assertNotIn(4, [s.account for s in best])

    def test_score_range_and_limits(self):
        result = self.suggester.suggest([
                Category('a', "Energia", 'expense'),
                Category('b', "Xyzzy Plugh", 'expense'),
                ], limit=2, min_score=50)
        self.assertEqual(len(result['a']), 1)
        self.assertEqual(NAMES[result['a'][0].account], "Energia Elétrica")
        self.assertEqual(result['b'], [])
        for suggestion in self.best("Energia", 'expense'):
            self.assertGreaterEqual(suggestion.score, 0)
            self.assertLessEqual(suggestion.score, 100)

    def test_user_synonyms(self):
        "Groups of the user extend the shipped table"
        name = "Gastos com Plataforma Xpto"
        suggester = Suggester(CHART)
        self.assertNotEqual(
            NAMES[self.best(name, 'expense', suggester)[0].account],
            "Tarifas Bancárias")
        suggester = Suggester(CHART, synonyms=load_synonyms() + [
                ("Plataforma", ["plataforma xpto", "tarifas bancárias"])])
        best = self.best(name, 'expense', suggester)[0]
        self.assertEqual(NAMES[best.account], "Tarifas Bancárias")
        self.assertEqual(best.reasons[0][0], 'synonym')

    def test_describe(self):
        self.assertEqual(
            describe((('name', 92), ('usage', 14))),
            "similar name 92%; used 14 times for this category")

    def test_empty_chart(self):
        self.assertEqual(Suggester([]).rank(
                Category(1, "Energia", 'expense')), [])


QUALIFIED = [
    Account(1, "ICMS sobre Vendas", 'expense', '4.1.2.01'),
    Account(2, "ICMS Substituição Tributária", 'expense', '4.1.2.02'),
    Account(3, "ICMS DIFAL", 'expense', '4.1.2.03'),
    Account(4, "INSS", 'expense', '5.1.1.06'),
    Account(5, "INSS sobre Pró-labore", 'expense', '5.1.1.07'),
    Account(6, "Aluguel de Imóveis", 'expense', '5.1.2.01'),
    Account(7, "Aluguel de Veículos", 'expense', '5.1.2.02'),
    Account(8, "Aluguel de Máquinas", 'expense', '5.1.2.03'),
    Account(9, "Vale-Refeição", 'expense', '5.1.1.08'),
    Account(10, "Vale-Transporte", 'expense', '5.1.1.09'),
    Account(11, "Devoluções de Vendas", 'expense', '4.1.1.01'),
    Account(12, "Honorários Contábeis", 'expense', '5.1.3.06'),
    Account(13, "Auditoria Externa", 'expense', '5.1.3.07'),
    Account(14, "Tarifas Bancárias", 'expense', '5.2.1.02'),
    Account(15, "Participação nos Lucros e Resultados", 'expense',
        '5.1.1.10'),
    Account(16, "Bônus e Gratificações", 'expense', '5.1.1.11'),
    Account(17, "Serviços Terceirizados", 'expense', '5.1.3.09'),
    Account(18, "Rastreamento de Frota", 'expense', '5.1.5.06'),
    Account(20, "Vendas de Mercadorias", 'revenue', '3.1.1.01'),
    Account(21, "Vendas E-commerce", 'revenue', '3.1.1.02'),
    Account(22, "Devoluções de Compras", 'revenue', '3.1.3.01'),
    ]
QUALIFIED_NAMES = {a.id: a.name for a in QUALIFIED}


class ConceptsTestCase(unittest.TestCase):
    "Narrow concepts, qualifiers and evidence break what synonyms tie"

    @classmethod
    def setUpClass(cls):
        cls.suggester = Suggester(QUALIFIED)

    def ranked(self, name, kind, **values):
        return self.suggester.rank(
            Category(name, name, kind, **values), limit=None)

    def assertBest(self, name, kind, expected, **values):
        ranked = self.ranked(name, kind, **values)
        self.assertEqual(
            QUALIFIED_NAMES[ranked[0].account], expected,
            "%s: %s" % (name, [
                    (QUALIFIED_NAMES[s.account], s.score, s.reasons)
                    for s in ranked[:3]]))
        return ranked

    def test_qualifiers(self):
        self.assertEqual(Qualifiers(tokens("ICMS ST")).values, {
                'tax': {'ICMS'}, 'regime': {'ST'}})
        self.assertEqual(Qualifiers(tokens("Locação de Caminhões")).values,
            {'object': {'veículos'}})
        # décimo terceiro is a salary, not a third party
        self.assertNotIn(
            'act', Qualifiers(tokens("13º Salário")).values)
        factor, matches, conflicts = Qualifiers(
            tokens("Aluguel de Veículos")).compare(
            Qualifiers(tokens("Aluguel de Imóveis")))
        self.assertLess(factor, 0.7)
        self.assertEqual(conflicts, ('veículos ≠ imóveis',))

    def test_qualifier_must_match(self):
        for name, expected in [
                ("ICMS ST", "ICMS Substituição Tributária"),
                ("ICMS-ST", "ICMS Substituição Tributária"),
                ("DIFAL", "ICMS DIFAL"),
                ("ICMS", "ICMS sobre Vendas"),
                ("ICMS Próprio", "ICMS sobre Vendas"),
                ("INSS", "INSS"),
                ("INSS s/ Pró-labore", "INSS sobre Pró-labore"),
                ("INSS dos Sócios", "INSS sobre Pró-labore"),
                ("Aluguel de Veículos", "Aluguel de Veículos"),
                ("Locação de Carros", "Aluguel de Veículos"),
                ("Aluguel de Máquinas", "Aluguel de Máquinas"),
                ("Aluguel", "Aluguel de Imóveis"),
                ("VR", "Vale-Refeição"),
                ("VT", "Vale-Transporte"),
                ]:
            self.assertBest(name, 'expense', expected)

    def test_conflict_is_a_reason(self):
        ranked = self.ranked("Aluguel de Veículos", 'expense')
        imoveis = next(s for s in ranked if s.account == 6)
        self.assertIn(
            ('qualifier_conflict', 'veículos ≠ imóveis'), imoveis.reasons)
        self.assertIn(('qualifier', 'veículos'), ranked[0].reasons)

    def test_narrow_concepts(self):
        self.assertBest(
            "Vendas de Mercadorias", 'revenue', "Vendas de Mercadorias")
        self.assertBest("Faturamento", 'revenue', "Vendas de Mercadorias")
        self.assertBest(
            "Vendas pela Internet", 'revenue', "Vendas E-commerce")
        self.assertBest("Devoluções", 'expense', "Devoluções de Vendas")
        self.assertBest(
            "Devolução de Compras", 'revenue', "Devoluções de Compras")
        self.assertBest(
            "Auditoria Independente", 'expense', "Auditoria Externa")
        self.assertBest("Contabilidade", 'expense', "Honorários Contábeis")

    def test_vocabulary(self):
        for name, expected in [
                ("PLR", "Participação nos Lucros e Resultados"),
                ("Bônus", "Bônus e Gratificações"),
                ("Bank Fees", "Tarifas Bancárias"),
                ("Outsourcing", "Serviços Terceirizados"),
                ("Terceirização de Mão de Obra", "Serviços Terceirizados"),
                ("Rastreador", "Rastreamento de Frota"),
                ]:
            self.assertBest(name, 'expense', expected)

    def test_clear_history_outweighs_a_synonym(self):
        "A category booked 4 times of 5 on an account goes there"
        ranked = self.assertBest(
            "Ticket Refeição", 'expense', "Vale-Transporte",
            usage={10: 4, 9: 1})
        self.assertGreater(ranked[0].score, 96)
        # one booking is not a clear history
        self.assertBest(
            "Vale Refeição", 'expense', "Vale-Refeição", usage={10: 1})

    def test_single_entry_outweighs_a_synonym(self):
        "The only entry of a category outranks a synonym guess"
        ranked = self.assertBest(
            "Aluguel", 'expense', "Aluguel de Máquinas", usage={8: 1})
        self.assertIn(('usage', 1), ranked[0].reasons)
        self.assertBest("Aluguel", 'expense', "Aluguel de Imóveis")
        # not when the category has other entries
        ranked = self.ranked("Aluguel", 'expense', usage={8: 1, 7: 1})
        self.assertLess(ranked[0].score, 96)

    def test_english_and_colloquial_names(self):
        "English terms, acronyms and brands of Brazilian books"
        for name, kind, expected in [
                ("Sales returns", 'expense', "Devoluções de Vendas"),
                ("Bank fees", 'expense', "Tarifas Bancárias"),
                ("Banking fees", 'expense', "Tarifas Bancárias"),
                ("Accounting fees", 'expense', "Honorários Contábeis"),
                ("Outsourcing", 'expense', "Serviços Terceirizados"),
                ("Rastreador", 'expense', "Rastreamento de Frota"),
                ("Bonus", 'expense', "Bônus e Gratificações"),
                ("PLR", 'expense', "Participação nos Lucros e Resultados"),
                ("VR", 'expense', "Vale-Refeição"),
                ("Sodexo Refeição", 'expense', "Vale-Refeição"),
                ("VT", 'expense', "Vale-Transporte"),
                ("Locação empilhadeira", 'expense', "Aluguel de Máquinas"),
                ("Aluguel de carro", 'expense', "Aluguel de Veículos"),
                ]:
            self.assertBest(name, kind, expected)

    def test_brands_and_everyday_words(self):
        "Brands and everyday words that name what a company pays for"
        chart = QUALIFIED + [
            Account(40, "Viagens e Estadias", 'expense', '5.1.4.01'),
            Account(41, "Copa e Cozinha", 'expense', '5.1.4.02'),
            Account(42, "Juros Passivos", 'expense', '5.2.1.01'),
            Account(43, "Benefícios a Empregados", 'expense', '5.1.1.12'),
            Account(44, "Propaganda e Publicidade", 'expense', '5.1.6.01'),
            ]
        names = {a.id: a.name for a in chart}
        suggester = Suggester(chart)
        for name, expected in [
                ("Airbnb", "Viagens e Estadias"),
                ("Hospedagem Booking", "Viagens e Estadias"),
                ("Cafezinho", "Copa e Cozinha"),
                ("Coworking", "Aluguel de Imóveis"),
                ("Deságio Factoring", "Juros Passivos"),
                ("Leasing de Veículos", "Aluguel de Veículos"),
                ("Wellhub", "Benefícios a Empregados"),
                ("TotalPass", "Benefícios a Empregados"),
                # a chart without their own account: what they are part of
                ("Monitoramento Alarme", "Serviços Terceirizados"),
                ("Vigilância", "Serviços Terceirizados"),
                ("Brindes", "Propaganda e Publicidade"),
                ]:
            ranked = suggester.rank(Category(name, name, 'expense'), limit=3)
            self.assertEqual(names[ranked[0].account], expected, "%s: %s" % (
                    name, [(names[s.account], s.score) for s in ranked]))

    def test_phrases_that_together_name_a_concept(self):
        "INSS and Pró-labore together are INSS sobre Pró-labore"
        self.assertBest(
            "Contribuição Previdenciária Pró-labore", 'expense',
            "INSS sobre Pró-labore")
        # without that account, the tax is what the category is
        suggester = Suggester(CHART)
        best, = suggester.rank(Category(
                1, "Contribuição Previdenciária Pró-labore", 'expense'))
        self.assertEqual(NAMES[best.account], "INSS")
        # and a phrase of the narrow concept names its tax
        suggester = Suggester([
                Account(1, "INSS sobre a Folha", 'expense'),
                Account(2, "INSS sobre Cédulas de Presença", 'expense'),
                Account(3, "Sistemas e Licenças de Uso", 'expense'),
                Account(4, "FGTS", 'expense'),
                ])
        best, = suggester.rank(Category(1, "INSS Sócios", 'expense'))
        self.assertEqual(best.account, 1)

    def test_family_goes_to_its_head(self):
        "Reached through a family only, the family's broad account wins"
        suggester = Suggester([
                Account(1, "Bolsa Estágio", 'expense'),
                Account(2, "Horas Extras", 'expense'),
                Account(3, "Salários e Ordenados", 'expense'),
                Account(4, "Indenizações e Rescisões Trabalhistas",
                    'expense'),
                ])
        best, = suggester.rank(Category(1, "Bonificações", 'expense'))
        self.assertEqual(best.account, 3)

    def test_family_match_is_weaker_evidence(self):
        "At the same score, a family match gives way to a closer one"
        class Tied(Suggester):
            # "Outsourcing" of the category is only account 3's word, and
            # the roots of its words are less alike than the words: either
            # would part the scores that this test ties
            missing_word = 0.
            plain_factor = 1.

        suggester = Tied([
                Account(1, "Infraestrutura de Nuvem", 'expense'),
                Account(2, "Licenças de Software", 'expense'),
                Account(3, "Terceirização de Desenvolvimento", 'expense'),
                ])
        ranked = suggester.rank(
            Category(1, "Outsourcing de TI", 'expense'), limit=None)
        self.assertEqual(ranked[0].account, 3)
        self.assertEqual(
            [round(s.score) for s in ranked[:3]], [round(ranked[0].score)] * 3)
        self.assertFalse(ranked[0].broad)
        self.assertTrue(ranked[1].broad)

    def test_narrow_sales(self):
        "Selling scrap or a used car is not selling goods"
        suggester = Suggester([
                Account(1, "Vendas de Mercadorias", 'revenue'),
                Account(2, "Ganho na Alienação de Imobilizado", 'revenue'),
                Account(3, "Outras Receitas Operacionais", 'revenue'),
                Account(4, "Venda de Produtos de Fabricação Própria",
                    'revenue'),
                ])
        for name, expected in [
                ("Venda de veículos", 2), ("Venda de sucata", 3),
                ("Venda de produtos", 4), ("Revenda de mercadorias", 1)]:
            best, = suggester.rank(Category(1, name, 'revenue'))
            self.assertEqual(best.account, expected, name)

    def test_misspelt_and_cut_words(self):
        "A word the engine does not know is read as the known one it is"
        for name, expected in [
                ("Alugel de Maquinas", "Aluguel de Máquinas"),
                ("Tarifas Bancarais", "Tarifas Bancárias"),
                ("Honor. Contáb.", "Honorários Contábeis"),
                ("Audit. Externa", "Auditoria Externa"),
                ]:
            best = self.ranked(name, 'expense')[0]
            self.assertEqual(QUALIFIED_NAMES[best.account], expected, name)
        # a known word is never corrected, nor a short one
        juros, = tokens("Juros")
        self.assertEqual(self.suggester._correct(juros), juros)
        self.assertEqual(self.suggester._correct('soci'), 'soci')
        self.assertEqual(
            self.suggester._correct('manuntencao'), 'manutencao')

    def test_learned(self):
        "The users' choices for categories of the same name are evidence"
        ranked = self.assertBest(
            "Despesas Avulsas", 'expense', "Tarifas Bancárias",
            learned={14: 2})
        self.assertIn(('learned', 2), ranked[0].reasons)
        # a rejection elsewhere lowers the account, without excluding it
        plain = self.ranked("Aluguel", 'expense')[0]
        rejected = self.ranked("Aluguel", 'expense', learned={6: -1})
        self.assertNotEqual(rejected[0].account, 6)
        lowered = next(s for s in rejected if s.account == 6)
        self.assertLess(lowered.score, plain.score)
        self.assertIn(('rejected', 1), lowered.reasons)

    def test_ties_are_broken_by_evidence_not_order(self):
        "Equal scores go to the account with a history, then to the code"
        suggester = Suggester([
                Account(1, "Despesas Diversas", 'expense', '5.1.1.01'),
                Account(2, "Despesas Diversas", 'expense', '5.2.1.01'),
                Account(3, "Energia", 'expense', '5.2.1.02'),
                ])
        category = Category(1, "Despesas Diversas", 'expense')
        first = suggester.rank(category)[0].account
        for account in [1, 2]:
            other = 3 - account if first == account else account
            category = Category(
                1, "Despesas Diversas", 'expense', party_usage={other: 1})
            best = suggester.rank(category, limit=None)
            self.assertEqual(best[0].account, other)
        # the accounts of the sibling categories point to 5.2.1
        best = suggester.rank(Category(
                1, "Despesas Diversas", 'expense', siblings={3: 2}))[0]
        self.assertEqual(best.account, 2)
        self.assertEqual(best.structure, 2)

    def test_parent_code(self):
        self.assertEqual(parent_code("5.1.2.04"), "5.1.2")
        self.assertIsNone(parent_code("504"))
        self.assertIsNone(parent_code(None))
