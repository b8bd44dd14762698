# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The qualifiers of an accounting name: what narrows its concept

"ICMS ST" and "ICMS sobre Vendas" share the concept ICMS but differ in
regime; "Aluguel de Veículos" and "Aluguel de Imóveis" differ in object;
"Devoluções de Vendas" and "Devoluções de Compras" in direction.  A
similarity of names or a synonym group sees them as the same thing, so the
engine reads the qualifiers of both names, per dimension, and lowers the
score of an account whose qualifier contradicts the category's (or that
lacks it, or adds one the category does not have).  Pure Python.

A value None consumes its words without qualifying: "décimo terceiro" is a
salary, not a third party."""
from .suggest_text import tokens

__all__ = ['Qualifiers', 'DIMENSIONS', 'LEXICON_WORDS', 'value_token']

# dimension: {value: [phrases]}; the phrases are normalised like names
DIMENSIONS = {
    'tax': {
        'ICMS': ['icms', 'imposto circulacao mercadorias'],
        'ISS': ['iss', 'issqn', 'imposto sobre servicos'],
        'PIS': ['pis'],
        'COFINS': ['cofins'],
        'INSS': ['inss', 'previdencia social', 'gps', 'cpp',
            'contribuicao previdenciaria'],
        'FGTS': ['fgts', 'fundo garantia'],
        'IRPJ': ['irpj', 'imposto renda', 'imposto renda pessoa juridica'],
        'IRRF': ['irrf', 'imposto renda retido', 'imposto renda fonte'],
        'CSLL': ['csll', 'contribuicao social lucro', 'contribuicao social'],
        'IOF': ['iof'],
        'IPI': ['ipi'],
        'IPVA': ['ipva'],
        'IPTU': ['iptu'],
        'Simples': ['simples nacional', 'das'],
        },
    'regime': {
        'ST': ['substituicao tributaria', 'icms antecipado',
            'antecipacao icms'],
        'DIFAL': ['diferencial aliquota'],
        },
    'direction': {
        'vendas': ['venda', 'revenda', 'faturamento', 'saida', 'cliente',
            'vendido', 'entrega cliente'],
        'compras': ['compra', 'aquisicao', 'entrada', 'fornecedor',
            'comprado'],
        },
    'object': {
        'imóveis': ['imovel', 'predio', 'predial', 'sala comercial',
            'loja', 'galpao', 'armazem', 'sede', 'escritorio'],
        'veículos': ['veiculo', 'carro', 'automovel', 'caminhao', 'moto',
            'motocicleta', 'frota', 'utilitario', 'onibus'],
        'máquinas': ['maquina', 'equipamento', 'maquinario', 'trator',
            'empilhadeira', 'impressora', 'ferramenta'],
        },
    'benefit': {
        'VR': ['vale refeicao', 'ticket refeicao'],
        'VR+VA': ['vale refeicao alimentacao',
            'vale alimentacao refeicao'],
        'VA': ['vale alimentacao', 'ticket alimentacao', 'cesta basica'],
        'VT': ['vale transporte'],
        'saúde': ['plano saude', 'assistencia medica', 'convenio medico',
            'plano odontologico', 'assistencia odontologica'],
        },
    'person': {
        'PJ': ['pessoa juridica'],
        'PF': ['pessoa fisica', 'autonomo', 'rpa'],
        },
    'base': {
        'folha': ['folha', 'salario', 'patronal', 'empregado',
            'funcionario', 'colaborador'],
        'pró-labore': ['prolabore', 'socio', 'retirada', 'diretoria'],
        'conselho': ['cedula presenca', 'conselho', 'conselheiro',
            'jeton'],
        },
    'channel': {
        'e-commerce': ['ecommerce', 'loja virtual', 'vendas online',
            'online', 'marketplace', 'mercado livre', 'shopee', 'amazon',
            'magalu', 'ifood'],
        },
    'act': {
        'cooperados': ['cooperado', 'associado', 'ato cooperativo'],
        'terceiros': ['terceiro'],
        },
    None: {
        # words of the phrases above that name something else here
        None: ['decimo terceiro', 'escritorio contabilidade',
            'escritorio contabil', 'material escritorio',
            'escritorio advocacia', 'servicos terceiros', 'seguro vida', 'cliente receber',
            'folha pagamento', 'salario pagar', 'fornecedor pagar',
            'contas pagar', 'adiantamento fornecedor',
            'adiantamento funcionario', 'adiantamento empregado',
            'adiantamento cliente', 'clientes receber'],
        },
    }

# A value the plain concept implies: "ICMS" is the ICMS on sales, "INSS"
# the employer's on the payroll, "Aluguel" the rent of premises.  An account
# that adds it to the category's concept is barely less likely.
IMPLIED = {
    ('direction', 'vendas'), ('base', 'folha'), ('object', 'imóveis'),
    ('act', 'terceiros'),
    }


# The dimensions whose value is the concept that a name is about, not only
# what narrows it: "Imposto de Renda" is IRPJ, "Cesta Básica" a VA, but a
# "Compra de Móveis" is not a "Fornecedores" account nor "Salários" the
# "Benefícios a Empregados"
VALUED = {'tax', 'benefit', 'base', 'act', 'channel'}


def _lexicon():
    lexicon = {}
    for dimension, values in DIMENSIONS.items():
        for value, phrases in values.items():
            for phrase in phrases:
                key = tokens(phrase)
                if key:
                    lexicon[key] = (dimension, value)
    return lexicon


_LEXICON = _lexicon()
# the words of the qualifiers, which a misspelling may stand for
LEXICON_WORDS = frozenset(w for key in _LEXICON for w in key)
_LONGEST = max(map(len, _LEXICON))
_VALUES = {(d, v): i for i, (d, v) in enumerate(sorted(
            {(d, v) for d, values in DIMENSIONS.items() if d is not None
                for value in values for v in value.split('+')}))}


def value_token(dimension, value):
    """Return the word that stands for a qualifier's value: characters
    of the supplementary private use area, that no name nor synonym
    group's token (suggest_reading) has"""
    return chr(0xF0000 + _VALUES[dimension, value]) * 6


class Qualifiers:
    """The qualifiers of a name, {dimension: frozenset of values}, and how
    those of an account agree with those of a category"""
    # factors of the score
    conflict = 0.65
    missing = 0.85
    extra = 0.93
    extra_implied = 0.99
    # a tax named by the account of a broad category ("Encargos Sociais" →
    # "INSS") is the usual way of charts, not a narrower concept
    extra_by_dimension = {'tax': 0.98}
    # the tax is what a tax account is: an account without the category's
    # tax ("Pró-labore" for "INSS sobre Pró-labore") is another concept,
    # one without its object or base a broader one ("INSS")
    missing_by_dimension = {'tax': 0.75}

    __slots__ = ('values', 'valued')

    def __init__(self, words):
        values = {}
        # the words with each qualifier's phrase as the token of its value:
        # "Imposto de Renda PJ" and "IRPJ" both read as the token of IRPJ
        valued = []
        i = 0
        while i < len(words):
            for size in range(min(_LONGEST, len(words) - i), 0, -1):
                found = _LEXICON.get(tuple(words[i:i + size]))
                if found:
                    dimension, value = found
                    if dimension is not None:
                        values.setdefault(dimension, set()).update(
                            value.split('+'))
                    if dimension in VALUED:
                        valued.extend(
                            value_token(dimension, v)
                            for v in value.split('+'))
                    else:
                        valued.extend(words[i:i + size])
                    i += size
                    break
            else:
                valued.append(words[i])
                i += 1
        self.values = {d: frozenset(v) for d, v in values.items()}
        self.valued = tuple(valued)

    def __bool__(self):
        return bool(self.values)

    def pairs(self):
        "Return the set of the (dimension, value) of the name"
        return {(d, v) for d, values in self.values.items() for v in values}

    def compare(self, other, available=None, same_concept=False):
        """Return (factor, matches, conflicts) of the account's qualifiers
        other against the category's self: matches and conflicts as
        sorted texts such as 'ICMS', 'veículos ≠ imóveis'

        available: the (dimension, value) of the chart's accounts; a
        qualifier of the category that no account has costs nothing, nor
        one of a name that the synonym table calls the same concept
        (same_concept: "Venda de Imobilizado" is "Ganho na Alienação")."""
        factor, matches, conflicts = 1., [], []
        for dimension in self.values.keys() | other.values.keys():
            mine = self.values.get(dimension)
            theirs = other.values.get(dimension)
            if mine and theirs:
                if mine & theirs:
                    matches.append(', '.join(sorted(mine & theirs)))
                else:
                    factor *= self.conflict
                    conflicts.append('%s ≠ %s' % (
                            ', '.join(sorted(mine)),
                            ', '.join(sorted(theirs))))
            elif mine:
                if not same_concept and (available is None or any(
                        (dimension, v) in available for v in mine)):
                    factor *= self.missing_by_dimension.get(
                        dimension, self.missing)
            elif all((dimension, v) in IMPLIED for v in theirs):
                factor *= self.extra_implied
            else:
                factor *= self.extra_by_dimension.get(dimension, self.extra)
        return factor, tuple(sorted(matches)), tuple(sorted(conflicts))
