# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Portuguese accounting names as the suggestion engine compares them

Case, accents, code prefixes, stop words and plurals go; abbreviations
("desp." → despesas, "c/" → com) and a few English words of Brazilian
books ("bank fees", "outsourcing") become the Portuguese words they stand
for.  Pure Python, without Tryton."""
import re
import unicodedata
from functools import lru_cache

__all__ = ['STOP_WORDS', 'WEAK_WORDS', 'ABBREVIATIONS', 'KNOWN_WORDS',
    'strip_accents', 'tokens', 'normalise', 'drop_weak', 'root',
    'clear_caches']

STOP_WORDS = frozenset('''
    a o as os ao aos de da do das dos e em no na nos nas num numa com sem
    para pra por pelo pela pelos pelas sobre sob um uma uns umas que ou ate
    entre via etc nao usar ref referente
    '''.split())

# Words that say little about which account: dropped when others remain
WEAK_WORDS = frozenset('''
    despes receit cust gast outr divers geral conta valor total operacional
    ingress dispendi
    '''.split())

# Abbreviations, after accents are stripped and dots removed: a sequence of
# tokens becomes the sequence of words (the longest match wins)
ABBREVIATIONS = {
    ('juro', 'rec'): 'juros recebidos',
    ('juros', 'rec'): 'juros recebidos',
    ('juros', 'pg'): 'juros pagos',
    ('juros', 'pgs'): 'juros pagos',
    ('dec', 'terc'): 'decimo terceiro',
    ('desc', 'obt'): 'descontos obtidos',
    ('desc', 'conc'): 'descontos concedidos',
    ('desc', 'rec'): 'descontos obtidos',
    ('mat', 'exp'): 'material expediente',
    ('mat', 'escr'): 'material escritorio',
    ('rend', 'aplic'): 'rendimentos aplicacoes',
    ('prest', 'serv'): 'prestacao servicos',
    ('v', 't'): 'vale transporte',
    ('v', 'r'): 'vale refeicao',
    ('v', 'a'): 'vale alimentacao',
    ('p', 'labore'): 'prolabore',
    ('c', 'c'): 'conta corrente',
    # a negation that stop words would drop turns a cooperative's act
    # with members into the act with third parties
    ('nao', 'cooperados'): 'terceiros', ('nao', 'cooperado'): 'terceiros',
    ('nao', 'cooperativos'): 'terceiros',
    ('nao', 'cooperativo'): 'terceiros',
    ('nao', 'associados'): 'terceiros', ('nao', 'associado'): 'terceiros',
    ('e', 'commerce'): 'ecommerce',
    ('1', '3'): 'terco', ('um', 'terco'): 'terco',
    # English words of Brazilian books
    ('bank', 'fees'): 'tarifas bancarias',
    ('bank', 'fee'): 'tarifas bancarias',
    ('bank', 'charges'): 'tarifas bancarias',
    ('meal', 'voucher'): 'vale refeicao',
    ('meal', 'vouchers'): 'vale refeicao',
    ('food', 'voucher'): 'vale alimentacao',
    ('food', 'vouchers'): 'vale alimentacao',
    ('transport', 'voucher'): 'vale transporte',
    ('transport', 'vouchers'): 'vale transporte',
    ('health', 'insurance'): 'plano saude',
    ('profit', 'sharing'): 'participacao lucros',
    ('web', 'hosting'): 'hospedagem servidores',
    ('credit', 'card'): 'cartao credito',
    }
ABBREVIATIONS.update({(k,): v for k, v in {
        'desp': 'despesas', 'dsp': 'despesas', 'desps': 'despesas',
        'rec': 'receitas', 'rct': 'receitas', 'rcts': 'receitas',
        'receit': 'receitas', 'recs': 'receitas',
        'sal': 'salarios', 'salar': 'salarios', 'sals': 'salarios',
        'enc': 'encargos', 'encarg': 'encargos', 'encs': 'encargos',
        'serv': 'servicos', 'servs': 'servicos', 'svc': 'servicos',
        'svcs': 'servicos', 'srv': 'servicos', 'srvs': 'servicos',
        'prest': 'prestacao', 'prestac': 'prestacao',
        'merc': 'mercadorias', 'mercad': 'mercadorias',
        'mercs': 'mercadorias', 'mercadoria': 'mercadorias',
        'vend': 'vendas', 'vda': 'venda', 'vdas': 'vendas',
        'mat': 'material', 'matl': 'material', 'mats': 'materiais',
        'escrit': 'escritorio', 'escr': 'escritorio',
        'exped': 'expediente', 'expd': 'expediente',
        'adm': 'administrativas', 'admin': 'administrativas',
        'adms': 'administrativas', 'administ': 'administrativas',
        'fin': 'financeiras', 'financ': 'financeiras',
        'finan': 'financeiras', 'fins': 'financeiras',
        'bco': 'banco', 'bcos': 'bancos', 'banc': 'bancarias',
        'bancar': 'bancarias', 'bcaria': 'bancaria', 'bcarias': 'bancarias',
        'tx': 'taxa', 'txs': 'taxas', 'tar': 'tarifas', 'tarif': 'tarifas',
        'manut': 'manutencao', 'mnt': 'manutencao', 'mnut': 'manutencao',
        'conserv': 'conservacao', 'reps': 'reparos',
        'comb': 'combustivel', 'combust': 'combustivel',
        'combs': 'combustiveis',
        'veic': 'veiculos', 'veics': 'veiculos', 'veicul': 'veiculos',
        'tel': 'telefone', 'telef': 'telefone', 'fone': 'telefone',
        'tels': 'telefones', 'telecom': 'telecomunicacoes',
        'hon': 'honorarios', 'honor': 'honorarios', 'hons': 'honorarios',
        'contab': 'contabeis', 'ctb': 'contabeis', 'ctbl': 'contabeis',
        'adv': 'advocaticios', 'advoc': 'advocaticios',
        'advocat': 'advocaticios',
        'imp': 'impostos', 'impost': 'impostos', 'imps': 'impostos',
        'trib': 'tributos', 'tribs': 'tributos',
        'contrib': 'contribuicao', 'contribs': 'contribuicoes',
        'prev': 'previdencia', 'previd': 'previdenciarios',
        'soc': 'sociais', 'socs': 'sociais',
        'func': 'funcionarios', 'funcs': 'funcionarios',
        'funcion': 'funcionarios', 'colab': 'colaboradores',
        'emp': 'emprestimos', 'empr': 'emprestimos',
        'emprest': 'emprestimos', 'emprests': 'emprestimos',
        'financiam': 'financiamentos', 'financs': 'financiamentos',
        'equip': 'equipamentos', 'equips': 'equipamentos',
        'eqptos': 'equipamentos', 'eqpto': 'equipamento',
        'maq': 'maquinas', 'maqs': 'maquinas',
        'info': 'informatica', 'inform': 'informatica',
        'informat': 'informatica',
        'publ': 'publicidade', 'public': 'publicidade',
        'propag': 'propaganda', 'prop': 'propaganda', 'mkt': 'marketing',
        'vt': 'vale transporte', 'vr': 'vale refeicao',
        'va': 'vale alimentacao',
        'desc': 'descontos', 'descs': 'descontos',
        'dev': 'devolucoes', 'devol': 'devolucoes', 'devs': 'devolucoes',
        'comiss': 'comissoes', 'comis': 'comissoes',
        'pgto': 'pagamento', 'pgtos': 'pagamentos', 'pagto': 'pagamento',
        'pagtos': 'pagamentos', 'pg': 'pagos', 'pgs': 'pagos',
        'obt': 'obtidos', 'conc': 'concedidos', 'rend': 'rendimentos',
        'rends': 'rendimentos', 'aplic': 'aplicacoes',
        'aplics': 'aplicacoes', 'ativ': 'ativo', 'imob': 'imobilizado',
        'deprec': 'depreciacao', 'amort': 'amortizacao',
        'alug': 'aluguel', 'alugs': 'alugueis',
        'energ': 'energia', 'eletr': 'eletrica',
        'refeic': 'refeicao', 'alim': 'alimentacao',
        'aliment': 'alimentacao',
        'transp': 'transporte', 'locom': 'locomocao',
        'hosp': 'hospedagem', 'viag': 'viagens', 'estac': 'estacionamento',
        'assist': 'assistencia', 'med': 'medica', 'odont': 'odontologica',
        'trein': 'treinamento', 'treinam': 'treinamento',
        'unif': 'uniformes', 'lic': 'licencas', 'licenc': 'licencas',
        'sist': 'sistemas', 'softw': 'software', 'sw': 'software',
        'cx': 'caixa', 'terc': 'terceiros', 'tercs': 'terceiros',
        'op': 'operacionais', 'oper': 'operacionais',
        'operac': 'operacionais', 'outr': 'outras', 'outs': 'outras',
        'div': 'diversas', 'diver': 'diversas', 'divs': 'diversas',
        'ger': 'gerais', 'mun': 'municipais', 'munic': 'municipais',
        'fed': 'federais', 'issqn': 'iss', 'iptu': 'iptu',
        '13o': 'decimo terceiro', '13': 'decimo terceiro',
        'ir': 'imposto renda',
        'cofins': 'cofins', 'csl': 'csll', 'dep': 'depreciacao',
        'ant': 'antecipacao', 'adiant': 'adiantamento',
        'fornec': 'fornecedores', 'forn': 'fornecedores',
        'cli': 'clientes', 'clis': 'clientes',
        'prod': 'produtos', 'prods': 'produtos',
        'limp': 'limpeza', 'segur': 'seguranca', 'vig': 'vigilancia',
        'cond': 'condominio', 'condom': 'condominio',
        'assin': 'assinaturas', 'assinat': 'assinaturas',
        'indeniz': 'indenizacoes', 'resc': 'rescisoes',
        'rescis': 'rescisoes', 'ferias': 'ferias',
        'hr': 'horas', 'hrs': 'horas', 'ext': 'extras',
        'extr': 'extras', 'jur': 'juridicos', 'juridic': 'juridicos',
        'cart': 'cartao', 'cred': 'credito', 'deb': 'debito',
        'adq': 'adquirente', 'maquin': 'maquininha',
        'pj': 'pessoa juridica', 'pf': 'pessoa fisica',
        'bonus': 'bonus', 'bonificacao': 'bonus', 'bonificacoes': 'bonus',
        'plr': 'participacao lucros resultados',
        'ppr': 'participacao lucros resultados',
        'outsourcing': 'terceirizacao', 'terceirizados': 'terceirizacao',
        'terceirizado': 'terceirizacao', 'terceirizada': 'terceirizacao',
        'terceirizadas': 'terceirizacao', 'cloud': 'nuvem',
        'hosting': 'hospedagem servidores', 'payroll': 'folha pagamento',
        'fees': 'tarifas', 'fee': 'tarifas', 'rent': 'aluguel',
        'insurance': 'seguros', 'taxes': 'impostos', 'travel': 'viagens',
        'fuel': 'combustivel', 'salaries': 'salarios',
        'salary': 'salarios', 'freight': 'fretes', 'audit': 'auditoria',
        'tracker': 'rastreador', 'tracking': 'rastreamento',
        'commissions': 'comissoes', 'commission': 'comissoes',
        'training': 'treinamento', 'legal': 'juridicos',
        'accounting': 'contabeis', 'interest': 'juros',
        'st': 'substituicao tributaria',
        'difal': 'diferencial aliquota',
        # short forms of legacy charts, too short to be read as the word
        # they cut (suggest_reading: five letters at least)
        'prov': 'provisao', 'provs': 'provisoes', 'part': 'participacao',
        'ord': 'ordenados', 'adic': 'adicional', 'loc': 'locacao',
        'vlr': 'valor', 'vlrs': 'valores', 'liq': 'liquido',
        'aux': 'auxilio', 'trab': 'trabalhistas', 'sind': 'sindical',
        'ded': 'deducoes', 'var': 'variacao', 'camb': 'cambial',
        'auto': 'automovel', 'autos': 'automoveis',
        }.items()})

# Acronyms and colloquial words of Brazilian books
ABBREVIATIONS.update({(k,): v for k, v in {
        'he': 'horas extras', 'hrs': 'horas', 'mp': 'materia prima',
        'mps': 'materia prima', 'mod': 'mao obra direta',
        'moi': 'mao obra indireta', 'mo': 'mao obra',
        'pcmso': 'exames medicos ocupacionais',
        'aso': 'exames medicos ocupacionais',
        'asos': 'exames medicos ocupacionais',
        'pdd': 'perdas clientes', 'ti': 'informatica',
        'nf': 'nota fiscal', 'nfe': 'nota fiscal', 'nfs': 'nota fiscal',
        'mdr': 'taxas cartao', 'epis': 'epi', 'ppra': 'seguranca trabalho',
        'saas': 'software', 'erp': 'sistema', 'crm': 'sistema',
        'ads': 'anuncios', 'adwords': 'anuncios',
        'sedex': 'correios', 'motoboy': 'entregas',
        'vr': 'vale refeicao', 'va': 'vale alimentacao',
        'bonificacao': 'bonus', 'gratificacao': 'gratificacoes',
        'premiacao': 'premios', 'premiacoes': 'premios',
        }.items()})
ABBREVIATIONS.update({
        ('hora', 'extra'): 'horas extras',
        ('mao', 'de', 'obra', 'direta'): 'mao obra direta',
        ('bradesco', 'saude'): 'plano saude',
        ('porto', 'seguro'): 'seguros',
        ('google', 'ads'): 'anuncios', ('meta', 'ads'): 'anuncios',
        ('facebook', 'ads'): 'anuncios', ('instagram', 'ads'): 'anuncios',
        ('mercado', 'pago'): 'adquirente cartao',
        ('banco', 'do', 'brasil'): 'banco',
        # the GPS of a tracker is no social security slip (GPS)
        ('rastreador', 'gps'): 'rastreador',
        ('rastreadores', 'gps'): 'rastreador',
        ('rastreamento', 'gps'): 'rastreamento',
        ('monitoramento', 'gps'): 'monitoramento rastreamento',
        ('caixa', 'economica'): 'banco',
        # a tax assessment, no vehicle's ("auto" → automóvel)
        ('auto', 'de', 'infracao'): 'auto infracao',
        ('autos', 'de', 'infracao'): 'auto infracao',
        })

# English words of Brazilian books (after the abbreviations, whose English
# phrases are idioms).  A name all in English is also read right to left,
# as English puts the qualifier first: "sales returns" is "devoluções de
# vendas".
ENGLISH = {
    'sales': 'vendas', 'sale': 'venda', 'revenue': 'receitas',
    'revenues': 'receitas', 'income': 'receitas', 'expenses': 'despesas',
    'expense': 'despesas', 'costs': 'custos', 'cost': 'custos',
    'returns': 'devolucoes', 'return': 'devolucoes', 'other': 'outras',
    'others': 'outras', 'misc': 'diversas', 'miscellaneous': 'diversas',
    'sundry': 'diversas', 'general': 'gerais', 'office': 'escritorio',
    'supplies': 'material', 'advertising': 'publicidade',
    'ads': 'anuncios', 'electricity': 'energia eletrica',
    'power': 'energia', 'water': 'agua', 'phone': 'telefone',
    'telephone': 'telefone', 'mobile': 'celular',
    'maintenance': 'manutencao', 'repairs': 'reparos', 'repair': 'reparos',
    'software': 'software', 'subscriptions': 'assinaturas',
    'subscription': 'assinaturas', 'licenses': 'licencas',
    'license': 'licencas', 'meals': 'refeicoes', 'meal': 'refeicao',
    'overtime': 'horas extras', 'vacation': 'ferias',
    'vacations': 'ferias', 'severance': 'rescisoes', 'bonus': 'bonus',
    'bonuses': 'bonus', 'benefits': 'beneficios', 'wages': 'salarios',
    'depreciation': 'depreciacao', 'amortization': 'amortizacao',
    'shipping': 'fretes', 'donations': 'doacoes', 'donation': 'doacoes',
    'fines': 'multas', 'penalties': 'multas', 'cleaning': 'limpeza',
    'security': 'seguranca', 'consulting': 'consultoria',
    'auditing': 'auditoria', 'dividends': 'dividendos',
    'loan': 'emprestimos', 'loans': 'emprestimos',
    'equipment': 'equipamentos', 'machinery': 'maquinas',
    'machines': 'maquinas', 'vehicles': 'veiculos', 'vehicle': 'veiculos',
    'furniture': 'moveis utensilios', 'computers': 'computadores',
    'discounts': 'descontos', 'discount': 'descontos',
    'exchange': 'cambial', 'gain': 'ganho', 'gains': 'ganhos',
    'loss': 'perda', 'losses': 'perdas', 'materials': 'materiais',
    'packaging': 'embalagens', 'purchases': 'compras',
    'purchase': 'compras', 'goods': 'mercadorias',
    'merchandise': 'mercadorias', 'services': 'servicos',
    'service': 'servicos', 'rental': 'aluguel', 'lease': 'aluguel',
    'postage': 'correios', 'courier': 'correios', 'hotel': 'hospedagem',
    'hotels': 'hospedagem', 'lodging': 'hospedagem',
    'airfare': 'passagens aereas', 'flights': 'passagens aereas',
    'tolls': 'pedagios', 'parking': 'estacionamento', 'export': 'exportacao',
    'exports': 'exportacao', 'import': 'importacao',
    'imports': 'importacao', 'card': 'cartao', 'cards': 'cartao',
    'banking': 'bancarias', 'bank': 'bancarias', 'internet': 'internet',
    'marketing': 'marketing', 'events': 'eventos', 'event': 'eventos',
    'rent': 'aluguel', 'insurance': 'seguros', 'taxes': 'impostos',
    'tax': 'impostos', 'travel': 'viagens', 'fuel': 'combustivel',
    'salaries': 'salarios', 'salary': 'salarios', 'freight': 'fretes',
    'audit': 'auditoria', 'commissions': 'comissoes',
    'commission': 'comissoes', 'training': 'treinamento',
    'legal': 'juridicos', 'accounting': 'contabeis', 'interest': 'juros',
    'fees': 'tarifas', 'fee': 'tarifas', 'payroll': 'folha pagamento',
    'cloud': 'nuvem', 'hosting': 'hospedagem servidores',
    'outsourcing': 'terceirizacao', 'tracker': 'rastreador',
    'tracking': 'rastreamento', 'health': 'saude', 'life': 'vida',
    'dental': 'odontologico', 'food': 'alimentacao',
    'transport': 'transporte', 'voucher': 'vale', 'vouchers': 'vale',
    'profit': 'lucros', 'profits': 'lucros', 'sharing': 'participacao',
    'capital': 'capital', 'stock': 'estoque', 'inventory': 'estoque',
    'supplier': 'fornecedores', 'suppliers': 'fornecedores',
    'customer': 'clientes', 'customers': 'clientes',
    'employee': 'funcionarios', 'employees': 'funcionarios',
    'staff': 'pessoal', 'raw': 'bruta', 'gross': 'bruta',
    'financial': 'financeiras', 'investments': 'aplicacoes',
    'investment': 'aplicacoes', 'yield': 'rendimentos',
    'refund': 'reembolso', 'refunds': 'reembolso',
    'reimbursement': 'reembolso', 'reimbursements': 'reembolso',
    'bad': 'perdas', 'debts': 'clientes', 'debt': 'clientes',
    'uniforms': 'uniformes', 'gifts': 'brindes', 'gift': 'brindes',
    'sponsorship': 'patrocinios', 'telecom': 'telecomunicacoes',
    'utilities': 'utilidades',
    }
ENGLISH_IDIOMS = {
    ('raw', 'materials'): 'materia prima',
    ('raw', 'material'): 'materia prima',
    ('accounting', 'fees'): 'honorarios contabeis',
    ('legal', 'fees'): 'honorarios advocaticios',
    ('card', 'fees'): 'taxas cartao', ('card', 'fee'): 'taxas cartao',
    ('other', 'income'): 'outras receitas',
    ('interest', 'income'): 'juros recebidos',
    ('interest', 'expense'): 'juros pagos',
    ('interest', 'expenses'): 'juros pagos',
    ('office', 'supplies'): 'material escritorio',
    ('exchange', 'gain'): 'variacao cambial ativa',
    ('exchange', 'gains'): 'variacao cambial ativa',
    ('exchange', 'loss'): 'variacao cambial passiva',
    ('exchange', 'losses'): 'variacao cambial passiva',
    ('bad', 'debts'): 'perdas clientes', ('bad', 'debt'): 'perdas clientes',
    ('payroll', 'taxes'): 'encargos sociais',
    ('cost', 'of', 'goods', 'sold'): 'custo mercadorias vendidas',
    ('fixed', 'assets'): 'imobilizado', ('bank', 'fees'): 'tarifas bancarias',
    ('bank', 'charges'): 'tarifas bancarias',
    ('banking', 'fees'): 'tarifas bancarias',
    ('gps', 'tracker'): 'rastreador', ('gps', 'tracking'): 'rastreamento',
    ('profit', 'sharing'): 'participacao lucros',
    ('health', 'insurance'): 'plano saude',
    ('life', 'insurance'): 'seguro vida',
    ('meal', 'voucher'): 'vale refeicao',
    ('meal', 'vouchers'): 'vale refeicao',
    ('food', 'voucher'): 'vale alimentacao',
    ('food', 'vouchers'): 'vale alimentacao',
    ('transport', 'voucher'): 'vale transporte',
    ('transport', 'vouchers'): 'vale transporte',
    ('web', 'hosting'): 'hospedagem servidores',
    ('credit', 'card'): 'cartao credito',
    ('bank', 'fee'): 'tarifas bancarias',
    ('sales', 'commissions'): 'comissoes vendas',
    ('sales', 'commission'): 'comissoes vendas',
    ('sales', 'returns'): 'devolucoes vendas',
    ('software', 'licenses'): 'licencas software',
    ('profit', 'distribution'): 'distribuicao lucros',
    ('capital', 'contribution'): 'aporte capital',
    }
ENGLISH_STOP_WORDS = frozenset(
    'and of the for on to from with by in at'.split())

# Words that name a kind of something (a brand, a fuel, a machine): the
# name of the kind is added before them unless the name has it already
HYPERNYMS = {}
for _hypernym, _words in {
        'combustivel': 'gasolina etanol diesel gnv arla',
        'aplicacoes': 'cdb lci lca poupanca cdi',
        'energia eletrica': 'cemig copel enel celesc coelba cpfl energisa '
            'equatorial neoenergia eletropaulo',
        'agua esgoto': 'sabesp copasa cedae sanepar embasa compesa caesb '
            'corsan',
        'plano saude': 'unimed amil hapvida sulamerica notredame '
            'intermedica',
        'locomocao': 'uber taxi taxis cabify 99pop',
        'banco': 'itau bradesco santander nubank sicredi sicoob bb btg',
        'adquirente cartao': 'cielo stone getnet pagseguro sumup pagarme '
            'rede',
        'maquina': 'empilhadeira empilhadeiras trator tratores torno '
            'compressor gerador retroescavadeira guindaste',
        'veiculo': 'carro carros caminhao caminhoes moto motos van vans '
            'automovel automoveis caminhonete frota',
        'publicidade': 'anuncios anuncio outdoor panfletos brindes',
        'servicos terceirizados': 'alarme alarmes vigilancia portaria',
        'viagens': 'aereas aereos aerea aereo passagem passagens airbnb '
            'booking decolar',
        }.items():
    for _word in _words.split():
        HYPERNYMS[_word] = tuple(_hypernym.split())
# the brand names of meal vouchers stand for the voucher
ABBREVIATIONS.update({(k,): 'vale' for k in
        'sodexo alelo ticket flash caju'.split()})
_MAX_ABBREVIATION = max(map(len, ABBREVIATIONS))
_MAX_IDIOM = max(map(len, ENGLISH_IDIOMS))

_CODE_PREFIX = re.compile(
    r'^\s*(?:\d+(?:[.\-]\d+)+\.?|\d+\s*[-–—:)])\s*[-–—:)]?\s*(?=\D)')
_SHORT_FORMS = [
    (re.compile(r'\bc\s*/\s*'), ' com '),
    (re.compile(r'\bs\s*/\s*'), ' sobre '),
    (re.compile(r'\bp\s*/\s*'), ' para '),
    (re.compile(r'&'), ' e '),
    (re.compile(r'\bpro[\s-]+labore\b'), 'prolabore'),
    ]
_WORD = re.compile(r'[a-z0-9]+')
_ACRONYM = re.compile(r'\b[A-Z]{2,}\b')


def strip_accents(text):
    return ''.join(
        c for c in unicodedata.normalize('NFKD', text)
        if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def _stem(token):
    "A light Portuguese stemmer: plural, then gender, of words over 3 letters"
    if len(token) <= 3 or not token.isalpha():
        return token
    for suffix, replacement in [
            ('coes', 'cao'), ('oes', 'ao'), ('aes', 'ao'), ('ais', 'al'),
            ('eis', 'el'), ('ns', 'm'), ('res', 'r'), ('zes', 'z'),
            ('ses', 's')]:
        if token.endswith(suffix):
            token = token[:-len(suffix)] + replacement
            break
    else:
        if token.endswith('s') and not token.endswith('ss'):
            token = token[:-1]
    if token.endswith('il') and len(token) > 4:
        token = token[:-2] + 'el'
    if len(token) > 4 and token[-1] in 'ao' and not token.endswith('ao'):
        token = token[:-1]
    return token


# Derivational endings of Portuguese nouns, adjectives and participles,
# longest first, as the stemmer leaves them (singular, without the final
# vowel of gender): "rastreador" and "rastreamento", "rescisória" and
# "rescisão", "cancelada" and "cancelamento", "transportadora" and
# "transporte"
_DERIVATIONS = sorted('''
    ament iment ment acao icao ucao cao ador edor idor ant ent
    avel ivel ari ori ad id agem ism ist idade ao ur e
    '''.split(), key=len, reverse=True)
# the shortest root left: shorter ones join words that are not related
_ROOT_LENGTH = 5


@lru_cache(maxsize=65536)
def root(word):
    """Return the root of a stemmed word without its derivational ending:
    the words of one family of a verb share it"""
    if not word.isalpha():
        return word
    for suffix in _DERIVATIONS:
        if (word.endswith(suffix)
                and len(word) - len(suffix) >= _ROOT_LENGTH):
            return word[:-len(suffix)]
    return word


@lru_cache(maxsize=65536)
def tokens(text):
    """Return the normalised tokens of text: no case, accents, code prefix,
    stop words nor plurals; abbreviations expanded"""
    if not text:
        return ()
    acronyms = set()
    if not text.isupper():
        acronyms = {strip_accents(a).lower() for a in _ACRONYM.findall(text)}
    text = _CODE_PREFIX.sub('', text)
    text = strip_accents(text).lower()
    text = text.replace('º', 'o').replace('ª', 'a')
    text = re.sub(r'(\w)\.(?=\w)', r'\1 ', text)
    for pattern, replacement in _SHORT_FORMS:
        text = pattern.sub(replacement, text)
    words = _english(_WORD.findall(text))
    expanded = []
    i = 0
    while i < len(words):
        for size in range(min(_MAX_ABBREVIATION, len(words) - i), 0, -1):
            key = tuple(words[i:i + size])
            if key in ABBREVIATIONS:
                expanded.extend(
                    (w, False) for w in ABBREVIATIONS[key].split())
                i += size
                break
        else:
            expanded.append((words[i], words[i] in acronyms))
            i += 1
    expanded = _with_hypernyms(expanded)
    result = tuple(
        _stem(w) for w, acronym in expanded
        if acronym or w not in STOP_WORDS)
    if not result:
        result = tuple(_stem(w) for w, _ in expanded)
    return result


def _english(words):
    """Return words with the English ones in Portuguese; a name all in
    English is read right to left"""
    if not any(w in ENGLISH or w in ENGLISH_STOP_WORDS for w in words):
        return words
    result = []
    i = 0
    english = True
    while i < len(words):
        for size in range(min(_MAX_IDIOM, len(words) - i), 1, -1):
            idiom = ENGLISH_IDIOMS.get(tuple(words[i:i + size]))
            if idiom:
                result.append(idiom.split())
                i += size
                break
        else:
            word = words[i]
            if word in ENGLISH_STOP_WORDS:
                i += 1
                continue
            if word in ENGLISH:
                result.append(ENGLISH[word].split())
            else:
                english = english and not word.isalpha()
                result.append([word])
            i += 1
    if english and 'of' not in words:
        result.reverse()
    return [w for part in result for w in part]


def _with_hypernyms(expanded):
    """Add before each word that names a kind of something the kind's
    name, as Portuguese puts the head first: "locação de [máquina]
    empilhadeira"
    """
    present = {_stem(w) for w, _ in expanded}
    result = []
    for word, acronym in expanded:
        hypernym = HYPERNYMS.get(word)
        if hypernym and not present.issuperset(map(_stem, hypernym)):
            result.extend((w, False) for w in hypernym)
            present.update(map(_stem, hypernym))
        result.append((word, acronym))
    return result


def _known_words():
    "Return the words that the expansions above produce, normalised"
    phrases = [*ABBREVIATIONS.values(), *ENGLISH.values(),
        *ENGLISH_IDIOMS.values(), *(' '.join(h) for h in HYPERNYMS.values())]
    return frozenset(w for p in phrases for w in tokens(p))


def clear_caches():
    "Forget the names and words normalised so far (for benchmarks)"
    for function in [tokens, _stem, root]:
        function.cache_clear()


def normalise(text):
    "Return text as the engine compares it"
    return ' '.join(drop_weak(tokens(text)))


def drop_weak(words):
    strong = [w for w in words if w not in WEAK_WORDS]
    return strong if strong else list(words)


# the words the engine knows without a synonym table or a chart: a
# category's word that is none of them nor of the table or the chart may be
# a misspelling (suggest_reading.NameReader._correct)
KNOWN_WORDS = _known_words()
