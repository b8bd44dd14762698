# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The engine on names that the synonym table does not know: the chart's
own words, the qualifiers' values, the families of words, the diversity of
the top three.  No database."""
import unittest

from novagestao_integrations_base.suggest import (
    Account, Category, Suggester, Suggestion)
from novagestao_integrations_base.suggest_concepts import (
    Qualifiers, value_token)
from novagestao_integrations_base.suggest_text import root, tokens
from novagestao_integrations_base.suggest_words import diversify, reading


def ranked(names, category, kind='expense', synonyms=(), limit=3,
        suggester=Suggester):
    "Return the names of the accounts ranked for the category"
    engine = suggester(
        [Account(i, name, kind) for i, name in enumerate(names)],
        synonyms=list(synonyms) if synonyms is not None else None)
    return [names[s.account] for s in engine.rank(
            Category(1, category, kind), limit=limit)]


class WordsOfTheChartTestCase(unittest.TestCase):
    "A category's word that some accounts have is evidence for them"

    def test_missing_word_lowers_the_score(self):
        names = ["Fretes sobre Vendas", "Fretes sobre Compras de Insumos"]
        # the shipped table calls both fretes; "Insumos" tells them apart
        self.assertEqual(
            ranked(names, "Frete de Insumos", synonyms=None)[0],
            "Fretes sobre Compras de Insumos")

    def test_missing_word_factor(self):
        suggester = Suggester([
                Account(1, "Fretes sobre Vendas", 'expense'),
                Account(2, "Fretes de Insumos", 'expense'),
                Account(3, "Insumos Agrícolas", 'expense'),
                ], synonyms=[])
        text = suggester._text("Frete de Insumos", components=True)
        counts = suggester._by_kind['expense'][4]
        self.assertEqual(counts[tokens("Insumos")[0]], 2)
        factor, missing = suggester._missing_words(
            text, suggester._texts[0], frozenset(), counts)
        self.assertEqual(missing, list(tokens("Insumos")))
        # two accounts have the word: it costs missing_word / √2
        self.assertAlmostEqual(
            factor, 1 - suggester.missing_word / 2 ** 0.5)
        factor, missing = suggester._missing_words(
            text, suggester._texts[1], frozenset(), counts)
        self.assertEqual((factor, missing), (1., []))

    def test_word_explained_by_a_shared_group_is_not_missing(self):
        synonyms = [("Pessoal", ["Folha de Pagamento", "Salários"])]
        suggester = Suggester([
                Account(1, "Folha de Pagamento", 'expense'),
                Account(2, "13º Salário", 'expense'),
                ], synonyms=synonyms)
        text = suggester._text("Salários", components=True)
        other = suggester._texts[0]
        factor, missing = suggester._missing_words(
            text, other, text.groups & other.groups,
            suggester._by_kind['expense'][4])
        self.assertEqual((factor, missing), (1., []))

    def test_lone_keyword_is_weaker(self):
        # "pagamento" is a word of the card fees' terms only: a keyword
        synonyms = [("Taxas de cartão", [
                    "Taxas de Administração de Cartões",
                    "Taxas de Meios de Pagamento"])]
        names = ["Taxas de Administração de Cartões", "Energia Elétrica"]

        class Unweighted(Suggester):
            lone_keyword_factor = 1.

        def score(name, suggester=Suggester):
            engine = suggester(
                [Account(i, n, 'expense') for i, n in enumerate(names)],
                synonyms=synonyms)
            text = engine._text(name, components=True)
            other = engine._texts[0]
            group = min(text.groups & other.groups)
            alone = engine._lone_keyword(
                text, other, group, text.groups & other.groups)
            return engine.rank(Category(1, name, 'expense'))[0], alone
        # "folha" is left unexplained beside the keyword
        best, alone = score("Folha de Pagamento")
        self.assertTrue(alone)
        unweighted, _ = score("Folha de Pagamento", Unweighted)
        self.assertLess(best.score, unweighted.score - 5)
        # a keyword alone is the whole name: no penalty
        _, alone = score("Pagamentos")
        self.assertFalse(alone)
        # a phrase of the group is no keyword
        _, alone = score("Taxas de Administração de Cartões Visa")
        self.assertFalse(alone)


class ValuesTestCase(unittest.TestCase):
    "Names read as their qualifiers' values, without synonyms"

    def test_value_tokens(self):
        self.assertEqual(
            Qualifiers(tokens("Imposto de Renda PJ")).valued[0],
            value_token('tax', 'IRPJ'))
        self.assertEqual(
            Qualifiers(tokens("IRPJ")).valued,
            (value_token('tax', 'IRPJ'),))
        self.assertNotEqual(
            value_token('tax', 'IRPJ'), value_token('tax', 'IRRF'))
        # a phrase that names something else keeps its words
        self.assertEqual(
            Qualifiers(tokens("Folha de Pagamento")).valued,
            tokens("Folha de Pagamento"))

    def test_tax_named_in_words(self):
        names = ["IRPJ", "CSLL", "Contribuição Sindical",
            "Serviços de Terceiros - Pessoa Jurídica", "Energia Elétrica"]
        self.assertEqual(
            ranked(names, "Imposto de Renda PJ")[0], "IRPJ")
        self.assertEqual(
            ranked(names, "Contribuição Social s/ Lucro")[0], "CSLL")

    def test_base_named_in_words(self):
        names = ["Pró-labore", "Custo dos Serviços Prestados",
            "Energia Elétrica"]
        self.assertEqual(
            ranked(names, "Retirada dos Sócios")[0], "Pró-labore")


class RootsTestCase(unittest.TestCase):
    "The words of one family share a root"

    def test_root(self):
        for first, second in [
                ("Rastreador", "Rastreamento"),
                ("Rescisórias", "Rescisões"),
                ("Canceladas", "Cancelamentos"),
                ("Transportadora", "Transporte"),
                ]:
            with self.subTest(first=first):
                self.assertEqual(
                    root(tokens(first)[0]), root(tokens(second)[0]))
        # a short word keeps its letters: "venda" is no "vendedor"
        self.assertEqual(root(tokens("Vendas")[0]), tokens("Vendas")[0])
        self.assertNotEqual(root("contabil"), root("contador"))
        # an adjective keeps its ending: administrative expenses are no
        # administration fees
        self.assertNotEqual(
            root(tokens("Administrativas")[0]),
            root(tokens("Administração")[0]))

    def test_family_of_words(self):
        names = ["Monitoramento e Rastreamento de Frota", "Vale-Transporte",
            "Auditoria Externa", "Energia Elétrica"]
        self.assertEqual(
            ranked(names, "Rastreador")[0],
            "Monitoramento e Rastreamento de Frota")
        names = ["Indenizações e Rescisões Trabalhistas", "13º Salário",
            "Comissões sobre Vendas", "Vale-Refeição"]
        self.assertEqual(
            ranked(names, "Verbas Rescisórias")[0],
            "Indenizações e Rescisões Trabalhistas")


class ShortFormsTestCase(unittest.TestCase):
    "The short forms of legacy charts, too short to be read as cut words"

    def test_short_forms(self):
        for short, full in [
                ("Prov. Férias", "Provisão de Férias"),
                ("Part. nos Lucros", "Participação nos Lucros"),
                ("Adic. Noturno", "Adicional Noturno"),
                ("Loc. de Equipamentos", "Locação de Equipamentos"),
                ("Var. Camb. Ativa", "Variação Cambial Ativa"),
                ("Aux. Creche", "Auxílio Creche"),
                ("Seguro Auto", "Seguro Automóvel"),
                ]:
            with self.subTest(short=short):
                self.assertEqual(tokens(short), tokens(full))
        # a tax assessment is no vehicle's
        self.assertNotIn(
            tokens("Veículo")[0], tokens("Multas - Auto de Infração"))


class DiversityTestCase(unittest.TestCase):
    "The second and third candidates offer another reading"

    def suggestion(self, account, score, label=None):
        reasons = (('synonym', score, label),) if label else (
            ('name', score),)
        return Suggestion(1, account, score, reasons)

    def test_reading(self):
        self.assertEqual(
            reading(self.suggestion(1, 70, "Família: veículos")),
            "Família: veículos")
        self.assertIsNone(reading(self.suggestion(1, 70)))

    def test_diversify(self):
        suggestions = [
            self.suggestion(1, 67, "Família: veículos"),
            self.suggestion(2, 67, "Família: veículos"),
            self.suggestion(3, 67, "Família: veículos"),
            self.suggestion(4, 60),
            self.suggestion(5, 55, "Família: veículos"),
            ]
        result = [s.account for s in diversify(suggestions)]
        # the third of one reading gives way to another reading
        self.assertEqual(result, [1, 2, 4, 3, 5])
        # an alternative far below the deferred one does not displace it
        far = suggestions[:3] + [
            self.suggestion(4, 55, "Família: veículos"),
            self.suggestion(5, 40),
            ]
        self.assertEqual(
            [s.account for s in diversify(far)], [1, 2, 3, 4, 5])
        # names' similarities are each their own reading
        names = [self.suggestion(i, 50 - i) for i in range(5)]
        self.assertEqual(diversify(names), names)

    def test_rank_is_diverse(self):
        synonyms = [
            ("Família: veículos", ["Veículos", "IPVA", "Pedágios",
                    "Combustíveis", "Monitoramento"]),
            ]
        names = ["IPVA", "Pedágios", "Combustíveis", "Vigilância Alarme"]
        top = ranked(names, "Monitoramento de Alarme", synonyms=synonyms)
        self.assertIn("Vigilância Alarme", top)


class ParentTestCase(unittest.TestCase):
    "An account is read with the name of its parent"

    chart = [
        Account(1, "Manutenção", 'expense', '5.1.1.01',
            "Despesas com Veículos"),
        Account(2, "Combustíveis", 'expense', '5.1.1.02',
            "Despesas com Veículos"),
        Account(3, "Manutenção", 'expense', '5.1.2.01',
            "Despesas com Imóveis"),
        Account(4, "Aluguel", 'expense', '5.1.2.02',
            "Despesas com Imóveis"),
        ]

    def best(self, name, synonyms=None):
        suggester = Suggester(self.chart, synonyms=synonyms)
        return suggester.rank(Category(1, name, 'expense'))[0].account

    def test_parent_name(self):
        for synonyms in [[], None]:
            with self.subTest(synonyms=synonyms):
                self.assertEqual(
                    self.best("Manutenção de Veículos", synonyms), 1)
                # the parent's qualifier: a building's upkeep
                self.assertEqual(
                    self.best("Manutenção Predial", synonyms), 3)

    def test_without_parent(self):
        "The same accounts without parents cannot be told apart"
        chart = [Account(a.id, a.name, a.kind, a.code) for a in self.chart]
        suggester = Suggester(chart, synonyms=[])
        ranked = suggester.rank(
            Category(1, "Manutenção Predial", 'expense'), limit=2)
        self.assertEqual(
            round(ranked[0].score), round(ranked[1].score))
