"""A deterministic, realistic Omie company: parties, categories, accounts,
payables, receivables, settlements, bank movements and NF-e.

Records are plain dicts named exactly as Omie names them in its responses.
Fields that Omie always sends but that carry nothing here (zero taxes, "N"
flags...) are left out of the stored records and added by ``shapes`` when a
response is rendered, which keeps 100,000 titles within a few hundred MB.

Determinism: every random choice comes from ``random.Random(seed)`` and the
only clock read is the default ``today`` (today in America/Sao_Paulo).
"""
import contextlib
import datetime as dt
import gc
import random
import time
from dataclasses import dataclass, field

from stdnum.br import cnpj as cnpj_rules
from stdnum.br import cpf as cpf_rules

from . import names
from .formats import ascii_upper, brazil_today, format_date, format_time, money
# The status rule lives with the store, which applies it again at read time.
from .store import title_status

APP_NAME = 'novagestao'

# (codigo, descricao, kind, dre code, dre description)
#   kind: 'R' revenue, 'D' expense, 'T' transfer; a code with children is a
#   group (totalizadora).  Codes ending in '*' are inactive categories.
#   Omie's codes are always dotted: its top rows are groups such as 1.01 or
#   0.01, with no bare '1' or '2' above them.
CATEGORY_TREE = [
    ('1.01', 'Receitas Diretas', 'R', '1.01', 'Receita Bruta de Vendas e Serviços'),
    ('1.01.01', 'Vendas de Mercadorias', 'R', '1.01', 'Receita Bruta de Vendas e Serviços'),
    ('1.01.02', 'Prestação de Serviços', 'R', '1.01', 'Receita Bruta de Vendas e Serviços'),
    ('1.01.03', 'Vendas no Balcão', 'R', '1.01', 'Receita Bruta de Vendas e Serviços'),
    ('1.02', 'Receitas Financeiras', 'R', '4.01', 'Receitas Financeiras'),
    ('1.02.01', 'Juros Recebidos', 'R', '4.01', 'Receitas Financeiras'),
    ('1.02.02', 'Rendimentos de Aplicações', 'R', '4.01', 'Receitas Financeiras'),
    ('1.02.03', 'Descontos Obtidos', 'R', '4.01', 'Receitas Financeiras'),
    ('1.03', 'Outras Receitas', 'R', '5.01', 'Outras Receitas Operacionais'),
    ('1.03.01', 'Reembolsos de Despesas', 'R', '5.01', 'Outras Receitas Operacionais'),
    ('1.03.02', 'Venda de Ativo Imobilizado', 'R', '5.01', 'Outras Receitas Operacionais'),
    ('2.01', 'Despesas com Pessoal', 'D', '3.02', 'Despesas com Pessoal'),
    ('2.01.01', 'Salários', 'D', '3.02', 'Despesas com Pessoal'),
    ('2.01.02', 'Encargos Sociais', 'D', '3.02', 'Despesas com Pessoal'),
    ('2.01.03', 'Vale Transporte', 'D', '3.02', 'Despesas com Pessoal'),
    ('2.01.04', 'Vale Refeição', 'D', '3.02', 'Despesas com Pessoal'),
    ('2.01.05', 'Pró-labore', 'D', '3.02', 'Despesas com Pessoal'),
    ('2.02', 'Despesas Administrativas', 'D', '3.03', 'Despesas Administrativas'),
    ('2.02.01', 'Aluguel', 'D', '3.03', 'Despesas Administrativas'),
    ('2.02.02', 'Energia Elétrica', 'D', '3.03', 'Despesas Administrativas'),
    ('2.02.03', 'Água e Esgoto', 'D', '3.03', 'Despesas Administrativas'),
    ('2.02.04', 'Telefone e Internet', 'D', '3.03', 'Despesas Administrativas'),
    ('2.02.05', 'Material de Escritório', 'D', '3.03', 'Despesas Administrativas'),
    ('2.02.06', 'Serviços Contábeis', 'D', '3.03', 'Despesas Administrativas'),
    ('2.02.07*', 'Despesas Diversas (não usar)', 'D', '3.03', 'Despesas Administrativas'),
    ('2.03', 'Impostos e Taxas', 'D', '1.02', 'Deduções da Receita Bruta'),
    ('2.03.01', 'ICMS', 'D', '1.02', 'Deduções da Receita Bruta'),
    ('2.03.02', 'PIS e COFINS', 'D', '1.02', 'Deduções da Receita Bruta'),
    ('2.03.03', 'ISS', 'D', '1.02', 'Deduções da Receita Bruta'),
    ('2.03.04', 'IPTU e Taxas Municipais', 'D', '1.02', 'Deduções da Receita Bruta'),
    ('2.04', 'Custo de Mercadorias', 'D', '2.01', 'Custo das Mercadorias Vendidas'),
    ('2.04.01', 'Compras de Mercadorias', 'D', '2.01', 'Custo das Mercadorias Vendidas'),
    ('2.04.02', 'Fretes sobre Compras', 'D', '2.01', 'Custo das Mercadorias Vendidas'),
    ('2.05', 'Despesas Financeiras', 'D', '4.02', 'Despesas Financeiras'),
    ('2.05.01', 'Tarifas Bancárias', 'D', '4.02', 'Despesas Financeiras'),
    ('2.05.02', 'Juros Pagos', 'D', '4.02', 'Despesas Financeiras'),
    ('2.05.03', 'IOF', 'D', '4.02', 'Despesas Financeiras'),
    ('0.01', 'Transferência', 'T', '', ''),
    ('0.01.01', 'Transferência entre Contas', 'T', '', ''),
    ('0.01.02', 'Suprimento de Caixa', 'T', '', ''),
]

# Which expense categories each supplier profile bills.
PROFILE_EXPENSES = {
    'goods': ['2.04.01'] * 6 + ['2.04.02'],
    'carrier': ['2.04.02'],
    'rent': ['2.02.01'],
    'energy': ['2.02.02'],
    'water': ['2.02.03'],
    'telecom': ['2.02.04'],
    'office': ['2.02.05'],
    'accounting': ['2.02.06'],
    'employee': ['2.01.01'] * 4 + ['2.01.03', '2.01.04'],
    'partner': ['2.01.05'],
    'government': ['2.03.01', '2.03.02', '2.03.03', '2.03.04', '2.01.02'],
    'both': ['2.04.01'],
}
PROFILE_REVENUES = {
    'retail': ['1.01.01'] * 5 + ['1.01.03'],
    'services': ['1.01.02'],
    'consumer': ['1.01.01', '1.01.02', '1.01.03'],
    'both': ['1.01.01', '1.01.02'],
    'foreign': ['1.01.01'],
}
DOCUMENT_TYPES_CP = ['BOL'] * 6 + ['NF'] * 2 + ['99999', 'TRA', 'PIX', 'REC']
DOCUMENT_TYPES_CR = ['BOL'] * 5 + ['DUP'] * 2 + ['PIX', '99999', 'CRT']


@dataclass
class Dataset:
    "Everything the sandbox serves; lists of Omie-shaped dicts"
    seed: int
    today: dt.date
    company: dict
    parties: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    accounts: list = field(default_factory=list)
    payables: list = field(default_factory=list)
    receivables: list = field(default_factory=list)
    settlements: list = field(default_factory=list)
    movements: list = field(default_factory=list)
    invoices: list = field(default_factory=list)
    app_name: str = APP_NAME

    def summary(self):
        return {
            'seed': self.seed, 'today': format_date(self.today),
            'parties': len(self.parties), 'categories': len(self.categories),
            'accounts': len(self.accounts), 'payables': len(self.payables),
            'receivables': len(self.receivables),
            'settlements': len(self.settlements),
            'movements': len(self.movements), 'invoices': len(self.invoices),
        }


class IdSequence:
    "Increasing 10-digit ids with small random gaps, like Omie's sequences"

    def __init__(self, rng, start):
        self.rng = rng
        self.last = start

    def __call__(self):
        self.last += self.rng.randint(1, 29)
        return self.last


def make_info(inc_day, inc_secs, alt_day, alt_secs, user_inc, user_alt,
        via_api):
    return {
        'dInc': format_date(inc_day), 'hInc': format_time(inc_secs),
        'uInc': user_inc,
        'dAlt': format_date(alt_day), 'hAlt': format_time(alt_secs),
        'uAlt': user_alt,
        'cImpAPI': 'S' if via_api else 'N',
    }


def nfe_key(uf_code, day, cnpj_digits, serie, number, rng):
    "A 44-digit NF-e access key with a correct modulo-11 check digit"
    body = '%02d%02d%02d%s55%03d%09d1%08d' % (
        int(uf_code), day.year % 100, day.month, cnpj_digits, int(serie),
        number, rng.randrange(10 ** 8))
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum(int(d) * weights[i % 8] for i, d in enumerate(reversed(body)))
    check = 11 - total % 11
    return body + str(0 if check >= 10 else check)


def cpf_check_digits(base):
    "The two CPF check digits of a 9-digit base (modulo 11)"
    numbers = [int(d) for d in base]
    for _ in range(2):
        weight = len(numbers) + 1
        total = sum(n * (weight - i) for i, n in enumerate(numbers))
        numbers.append(total * 10 % 11 % 10)
    return '%d%d' % tuple(numbers[-2:])


class _Generator:
    "One generation run; holds the Random and the cross-references"

    def __init__(self, seed, parties, titles, movements, today):
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_parties = parties
        self.n_titles = titles
        self.n_movements = movements
        self.today = today
        self.used_documents = set()
        self.users = ['P%09d' % self.rng.randint(10 ** 8, 10 ** 9 - 1)
            for _ in range(4)]

    # -- small helpers -------------------------------------------------
    def day_between(self, start, end):
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(
            0, (end - start).days))

    def office_hours(self):
        return self.rng.randint(8 * 3600, 18 * 3600 + 59 * 60)

    def user(self):
        return self.rng.choice(self.users)

    def new_cnpj(self, branch='0001'):
        while True:
            base = '%08d' % self.rng.randint(1000000, 99999999) + branch
            number = base + cnpj_rules.calc_check_digits(base)
            if number not in self.used_documents:
                self.used_documents.add(number)
                return number

    def new_cpf(self):
        while True:
            base = '%09d' % self.rng.randint(10 ** 7, 10 ** 9 - 1)
            number = base + cpf_check_digits(base)
            if number not in self.used_documents and len(set(number)) > 1:
                self.used_documents.add(number)
                return number

    def person_name(self):
        rng = self.rng
        first = rng.choice(names.FIRST_NAMES_MALE if rng.random() < 0.5
            else names.FIRST_NAMES_FEMALE)
        parts = [first]
        if rng.random() < 0.3:
            parts.append(rng.choice(names.MIDDLE_NAMES))
        parts.append(rng.choice(names.SURNAMES))
        if rng.random() < 0.35:
            surname = rng.choice(names.SURNAMES)
            if surname not in parts:
                parts.append(surname)
        return ' '.join(parts)

    def company_name(self, business, style):
        rng = self.rng
        if style == 'place':
            core = '%s %s' % (business, rng.choice(names.PLACE_NAMES))
        else:
            surname = rng.choice(names.SURNAMES).replace(
                'da ', '').replace('dos ', '')
            core = '%s %s' % (business, surname)
            if rng.random() < 0.15:
                core += ' & Filhos'
        suffix = rng.choices(
            [s for s, _ in names.COMPANY_SUFFIXES],
            [w for _, w in names.COMPANY_SUFFIXES])[0]
        return '%s %s' % (core, suffix)

    def city(self):
        return self.rng.choices(names.CITIES, names.CITY_WEIGHTS)[0]

    def phone(self, mobile):
        if mobile:
            return '9%04d-%04d' % (self.rng.randint(1000, 9999),
                self.rng.randint(0, 9999))
        return '%04d-%04d' % (self.rng.randint(2000, 5999),
            self.rng.randint(0, 9999))

    @staticmethod
    def slug(text):
        return ''.join(ch for ch in ascii_upper(text).lower()
            if ch.isalnum())[:24]

    # -- company, categories, accounts ---------------------------------
    def build_company(self):
        city = names.CITIES[0]
        cnpj = self.new_cnpj()
        founded = self.today - dt.timedelta(days=365 * 6 + 40)
        self.company = {
            'codigo_empresa': self.rng.randint(10 ** 9, 2 * 10 ** 9),
            'codigo_empresa_integracao': '',
            'cnpj': cnpj_rules.format(cnpj),
            'razao_social': 'Nova Gestão Comércio e Serviços Ltda',
            'nome_fantasia': 'Nova Gestão',
            'endereco': 'Avenida Paulista', 'endereco_numero': '1578',
            'complemento': 'Conjunto 42', 'bairro': 'Bela Vista',
            'cidade': '%s (%s)' % (ascii_upper(city[0]), city[1]),
            'estado': city[1], 'cep': '01310-200', 'codigo_pais': '1058',
            'telefone1_ddd': city[4], 'telefone1_numero': '3251-4400',
            'telefone2_ddd': '', 'telefone2_numero': '',
            'fax_ddd': '', 'fax_numero': '',
            'email': 'financeiro@novagestao.com.br',
            'website': 'www.novagestao.com.br',
            'inscricao_estadual': '110.042.490.114',
            'inscricao_municipal': '4.123.456-7', 'inscricao_suframa': '',
            'cnae': '4789-0/99', 'cnae_municipal': '',
            'regime_tributario': '3', 'optante_simples_nacional': 'N',
            'data_adesao_sn': '', 'inativa': 'N', 'gera_nfe': 'S',
            'gera_nfse': 'S', 'tipo_ambiente': 'P',
            'inclusao_data': format_date(founded), 'inclusao_hora': '10:12:44',
            'alteracao_data': format_date(founded + dt.timedelta(days=400)),
            'alteracao_hora': '16:03:10', 'bloqueia_cadastro': 'N',
        }
        self.company_cnpj = cnpj

    def build_categories(self):
        codes = [row[0].rstrip('*') for row in CATEGORY_TREE]
        groups = {c.rsplit('.', 1)[0] for c in codes if '.' in c}
        records = []
        for codigo, descricao, kind, dre_code, dre_desc in CATEGORY_TREE:
            inactive = codigo.endswith('*')
            codigo = codigo.rstrip('*')
            group = codigo in groups
            # a top group (1.01, 0.01) has no row above it
            parent = codigo.rsplit('.', 1)[0] if codigo.count('.') > 1 \
                else ''
            level = codigo.count('.') + 1
            records.append({
                'codigo': codigo, 'descricao': descricao,
                'descricao_padrao': descricao,
                'tipo_categoria': {'R': 'R', 'D': 'D'}.get(kind, ''),
                'conta_inativa': 'S' if inactive else 'N',
                'definida_pelo_usuario': 'S' if codigo in (
                    '1.01.03', '2.02.07', '0.01.02') else 'N',
                'id_conta_contabil': 0, 'tag_conta_contabil': '',
                'conta_despesa': 'S' if kind == 'D' else 'N',
                'conta_receita': 'S' if kind == 'R' else 'N',
                'nao_exibir': 'N',
                'natureza': descricao if not group else '',
                'totalizadora': 'S' if group else 'N',
                'transferencia': 'S' if kind == 'T' else 'N',
                'codigo_dre': dre_code,
                'categoria_superior': parent,
                'dadosDRE': {
                    'codigoDRE': dre_code, 'descricaoDRE': dre_desc,
                    'naoExibirDRE': 'S' if not dre_code else 'N',
                    'nivelDRE': level if dre_code else 0,
                    'sinalDRE': '' if not dre_code else (
                        '+' if kind == 'R' else '-'),
                    'totalizaDRE': 'S' if group and dre_code else 'N',
                },
            })
        self.categories = records
        self.category_names = {r['codigo']: r['descricao'] for r in records}

    def build_accounts(self):
        next_id = IdSequence(self.rng, self.rng.randint(4, 5) * 10 ** 9)
        opened = self.today - dt.timedelta(days=400)
        self.accounts = []
        self.account_weights = []
        for index, row in enumerate(names.ACCOUNTS):
            tipo, bank, descricao, agencia, numero, inactive, share = row
            self.accounts.append({
                'nCodCC': next_id(),
                'cCodCCInt': 'CC%02d' % (index + 1) if index < 2 else '',
                'tipo_conta_corrente': tipo, 'codigo_banco': bank,
                'descricao': descricao, 'codigo_agencia': agencia,
                'numero_conta_corrente': numero,
                'saldo_inicial': 0.0,
                'saldo_data': format_date(opened),
                'valor_limite': 10000.0 if bank == '001' else 0.0,
                'nao_fluxo': 'N', 'nao_resumo': 'N',
                'cobr_sn': 'S' if bank in ('001', '341') else 'N',
                'bol_sn': 'S' if bank in ('001', '341') else 'N',
                'pix_sn': 'S' if tipo == 'CC' else 'N',
                'pdv_enviar': 'N', 'pdv_sincr_analitica': 'N',
                'pdv_dias_venc': 0, 'pdv_num_parcelas': 0,
                'pdv_tipo_tef': '', 'pdv_cod_adm': 0,
                'pdv_limite_pacelas': 0, 'pdv_taxa_loja': 0.0,
                'pdv_taxa_adm': 0.0, 'pdv_categoria': '',
                'pdv_bandeira': '',
                'data_inc': format_date(opened), 'hora_inc': '09:30:00',
                'user_inc': self.users[0],
                'data_alt': format_date(opened + dt.timedelta(days=index * 3)),
                'hora_alt': '11:45:%02d' % (index * 7),
                'user_alt': self.users[0],
                'importado_api': 'N', 'bloqueado': 'N',
                'inativo': 'S' if inactive else 'N',
            })
            self.account_weights.append(share)
        self.active_accounts = [a['nCodCC'] for a, w in
            zip(self.accounts, self.account_weights) if w]
        self.active_weights = [w for w in self.account_weights if w]
        self.cash_account = next(a['nCodCC'] for a in self.accounts
            if a['tipo_conta_corrente'] == 'CX')
        self.bank_accounts = [a['nCodCC'] for a in self.accounts
            if a['tipo_conta_corrente'] == 'CC' and a['inativo'] == 'N']

    # -- parties -------------------------------------------------------
    def party_profiles(self):
        "The profile of every party, so that each role is always present"
        rng = self.rng
        fixed = ['energy', 'water', 'telecom', 'rent', 'accounting', 'office',
            'government', 'government', 'partner', 'carrier', 'goods',
            'goods', 'employee', 'employee', 'retail', 'services',
            'consumer', 'both', 'foreign']
        pool = (['retail'] * 20 + ['services'] * 9 + ['consumer'] * 12
            + ['both'] * 8 + ['goods'] * 12 + ['carrier'] * 3
            + ['employee'] * 6 + ['office'] * 2 + ['foreign'] * 2
            + ['accounting', 'rent', 'telecom', 'government'])
        profiles = fixed[:self.n_parties]
        while len(profiles) < self.n_parties:
            profiles.append(rng.choice(pool))
        rng.shuffle(profiles)
        return profiles

    def build_parties(self):
        rng = self.rng
        profiles = self.party_profiles()
        drafts = []
        for profile in profiles:
            drafts.append(self.party_draft(profile))
        # Omie ids grow with the inclusion time.
        drafts.sort(key=lambda d: (d['_inc'], d['_inc_secs']))
        next_id = IdSequence(rng, rng.randint(2, 3) * 10 ** 9)
        self.parties = []
        self.clients_by_profile = {}
        self.suppliers_by_profile = {}
        self.party_by_id = {}
        self.profile_by_party = {}
        for index, draft in enumerate(drafts):
            record = draft['record']
            record['codigo_cliente_omie'] = next_id()
            if draft['via_api']:
                record['codigo_cliente_integracao'] = 'CLI%06d' % (index + 1)
            record['info'] = make_info(
                draft['_inc'], draft['_inc_secs'], draft['_alt'],
                draft['_alt_secs'],
                'WEBSERVICE' if draft['via_api'] else self.user(),
                'WEBSERVICE' if draft['via_api'] and rng.random() < 0.5
                else self.user(), draft['via_api'])
            record['importado_api'] = 'S' if draft['via_api'] else 'N'
            self.parties.append(record)
            self.party_by_id[record['codigo_cliente_omie']] = record
            self.profile_by_party[record['codigo_cliente_omie']] = \
                draft['profile']
            tags = {t['tag'] for t in record['tags']}
            usable = record['inativo'] == 'N'
            if 'Cliente' in tags and usable:
                self.clients_by_profile.setdefault(
                    draft['profile'], []).append(record)
            if 'Fornecedor' in tags and usable:
                self.suppliers_by_profile.setdefault(
                    draft['profile'], []).append(record)
        self.clients = [p for lst in self.clients_by_profile.values()
            for p in lst]
        self.suppliers = [p for lst in self.suppliers_by_profile.values()
            for p in lst]
        # Keep every list non-empty even for tiny datasets.
        if not self.clients:
            self.clients = [self.parties[0]]
        if not self.suppliers:
            self.suppliers = [self.parties[-1]]

    def party_draft(self, profile):
        rng = self.rng
        person = profile in ('consumer', 'employee', 'partner')
        foreign = profile == 'foreign'
        city = self.city()
        tags = []
        if profile in ('retail', 'services', 'consumer', 'foreign', 'both'):
            tags.append('Cliente')
        if profile not in ('retail', 'services', 'consumer', 'foreign'):
            tags.append('Fornecedor')
        if profile == 'carrier':
            tags.append('Transportadora')
        if profile == 'employee':
            tags.append('Funcionário')
        if profile in ('retail', 'both') and rng.random() < 0.1:
            tags.append('VIP')

        if foreign:
            code, city_name, _country = rng.choice(names.FOREIGN)
            razao = rng.choice(names.FOREIGN_COMPANIES)
            fantasia = razao.split(' ')[0] + ' ' + razao.split(' ')[1]
            document = ''
        elif person:
            razao = self.person_name()
            fantasia = razao.split(' ')[0]
            document = cpf_rules.format(self.new_cpf())
        else:
            if profile in ('energy', 'water'):
                template = next(t for t, p in names.UTILITIES if p == profile)
                razao = template.format(place=rng.choice(names.PLACE_NAMES))
            elif profile == 'government':
                razao = rng.choice(names.GOVERNMENT).format(
                    city=names.CITIES[0][0])
            else:
                wanted = {'goods': 'goods', 'carrier': 'carrier',
                    'rent': 'rent', 'accounting': 'accounting',
                    'telecom': 'telecom', 'office': 'office',
                    'services': 'services', 'both': 'both'}.get(
                        profile, 'retail')
                business, style, _ = rng.choice(
                    [b for b in names.BUSINESSES if b[2] == wanted])
                razao = self.company_name(business, style)
            fantasia = razao.replace(' S.A.', '').replace(' Ltda', '')
            for suffix in (' - ME', ' - EPP', ' ME', ' EPP', ' EIRELI'):
                fantasia = fantasia.replace(suffix, '')
            document = cnpj_rules.format(self.new_cnpj())

        # A few records carry a document whose check digits are wrong, as
        # happens in real registers filled by hand.
        if document and rng.random() < 0.015:
            wrong = (int(document[-1]) + 1) % 10
            document = document[:-1] + str(wrong)

        sparse = rng.random() < 0.08
        domain = self.slug(fantasia) or 'cliente'
        if person:
            email = '%s.%s@%s' % (
                self.slug(razao.split(' ')[0]), self.slug(razao.split(' ')[-1]),
                rng.choice(['gmail.com', 'hotmail.com', 'yahoo.com.br',
                    'uol.com.br', 'outlook.com']))
        else:
            email = '%s@%s.com.br' % (
                rng.choice(['contato', 'financeiro', 'comercial', 'adm']),
                domain)
        if sparse:
            email = ''
        street = rng.choice(names.STREETS)
        cep = '%s%03d-%03d' % (city[3], rng.randint(0, 999),
            rng.randint(0, 999))
        inactive = rng.random() < 0.03 and profile not in (
            'energy', 'water', 'government')
        via_api = rng.random() < 0.45
        start = self.today - dt.timedelta(days=3 * 365)
        inc = self.day_between(start, self.today - dt.timedelta(days=30))
        inc_secs = self.office_hours()
        if rng.random() < 0.4:
            alt = self.day_between(inc, self.today)
            alt_secs = self.office_hours()
            if alt == inc and alt_secs < inc_secs:
                alt_secs = inc_secs
        else:
            alt, alt_secs = inc, inc_secs
        bank = rng.choice(names.BANKS)
        record = {
            'codigo_cliente_omie': 0,
            'codigo_cliente_integracao': '',
            'razao_social': razao,
            'nome_fantasia': '' if sparse and not foreign else fantasia,
            'cnpj_cpf': document,
            'pessoa_fisica': 'S' if person else 'N',
            'exterior': 'S' if foreign else 'N',
            'email': email,
            'homepage': '' if person or sparse else 'www.%s.com.br' % domain,
            'telefone1_ddd': '' if foreign or sparse else city[4],
            'telefone1_numero': '' if sparse else (
                '+%s 5%03d-%04d' % (code[1:3], rng.randint(0, 999),
                    rng.randint(0, 9999)) if foreign else
                self.phone(mobile=person)),
            'telefone2_ddd': '', 'telefone2_numero': '',
            'fax_ddd': '', 'fax_numero': '',
            'contato': '' if person or sparse else self.person_name(),
            'endereco': 'Calle %d' % rng.randint(1, 99) if foreign else street,
            'endereco_numero': str(rng.randint(1, 3500)),
            'complemento': rng.choice(names.COMPLEMENTS),
            'bairro': '' if foreign else rng.choice(names.DISTRICTS),
            'cidade': ascii_upper(city_name) if foreign else
                '%s (%s)' % (ascii_upper(city[0]), city[1]),
            'cidade_ibge': '' if foreign else city[2],
            'estado': 'EX' if foreign else city[1],
            'cep': '' if foreign else cep,
            'codigo_pais': code if foreign else '1058',
            'inscricao_estadual': '' if person or foreign else (
                'ISENTO' if rng.random() < 0.2 else '%03d.%03d.%03d.%03d' % (
                    rng.randint(100, 999), rng.randint(0, 999),
                    rng.randint(0, 999), rng.randint(0, 999))),
            'inscricao_municipal': '' if person or foreign or sparse else
                '%d' % rng.randint(10 ** 6, 10 ** 8),
            'inscricao_suframa': '',
            'optante_simples_nacional': 'N' if person or foreign else (
                'S' if rng.random() < 0.55 else 'N'),
            'contribuinte': 'N' if person or foreign else 'S',
            'produtor_rural': 'N',
            'inativo': 'S' if inactive else 'N',
            'bloquear_faturamento': 'N',
            'bloquear_exclusao': 'N',
            'valor_limite_credito': 0.0 if person else money(
                rng.choice([0, 5000, 10000, 20000, 50000])),
            'observacao': '' if rng.random() < 0.8 else
                'Cliente desde %d. Preferência por boleto.' % inc.year,
            'tags': [{'tag': tag} for tag in tags],
            'dadosBancarios': {
                'codigo_banco': '' if sparse or foreign else bank[0],
                'agencia': '' if sparse or foreign else
                    '%04d' % rng.randint(1, 9999),
                'conta_corrente': '' if sparse or foreign else
                    '%d-%d' % (rng.randint(1000, 999999), rng.randint(0, 9)),
                'doc_titular': '' if sparse or foreign else document,
                'nome_titular': '' if sparse or foreign else razao,
                'transf_padrao': 'N',
                'cChavePix': '' if sparse or not email else email,
            },
            'enderecoEntrega': {
                'entEndereco': '', 'entNumero': '', 'entComplemento': '',
                'entBairro': '', 'entCEP': '', 'entEstado': '',
                'entCidade': '', 'entTelefone': '', 'entCnpjCpf': '',
                'entRazaoSocial': '', 'entIE': '', 'entSepararEndereco': 'N',
            },
            'recomendacoes': {
                'numero_parcelas': rng.choice(['', '', '001', '002', '003']),
                'codigo_vendedor': 0, 'email_fatura': email,
                'gerar_boletos': 'S' if 'Cliente' in tags
                    and rng.random() < 0.5 else 'N',
                'codigo_transportadora': 0, 'tipo_assinante': '',
            },
            'caracteristicas': [] if rng.random() < 0.85 else [
                {'campo': 'Segmento', 'conteudo': rng.choice(
                    ['Varejo', 'Atacado', 'Serviços', 'Indústria'])}],
        }
        return {'record': record, 'profile': profile, 'via_api': via_api,
            '_inc': inc, '_inc_secs': inc_secs, '_alt': alt,
            '_alt_secs': alt_secs}

    # -- titles --------------------------------------------------------
    def pick_party(self, receivable):
        rng = self.rng
        if receivable:
            return rng.choice(self.clients)
        return rng.choice(self.suppliers)

    def profile_of(self, party, receivable):
        profile = self.profile_by_party.get(party['codigo_cliente_omie'],
            'both')
        # A "both" party bills as a supplier and buys as a client.
        if receivable and profile not in PROFILE_REVENUES:
            return 'both'
        if not receivable and profile not in PROFILE_EXPENSES:
            return 'both'
        return profile

    def build_titles(self):
        """Documents split in instalments; each instalment is one title."""
        rng = self.rng
        n_cp = self.n_titles // 2
        n_cr = self.n_titles - n_cp
        drafts = []
        for receivable, wanted in ((False, n_cp), (True, n_cr)):
            made = 0
            while made < wanted:
                party = self.pick_party(receivable)
                profile = self.profile_of(party, receivable)
                parcels = min(wanted - made, self.instalment_count(
                    receivable, profile))
                drafts.extend(self.document_drafts(
                    receivable, party, profile, parcels))
                made += parcels
        self.attach_invoices(drafts)
        drafts.sort(key=lambda d: (d['inc'], d['inc_secs']))
        next_id = IdSequence(rng, rng.randint(6, 7) * 10 ** 9)
        counters = {False: 0, True: 0}
        for draft in drafts:
            draft['record']['codigo_lancamento_omie'] = next_id()
            receivable = draft['receivable']
            counters[receivable] += 1
            if draft['via_api']:
                draft['record']['codigo_lancamento_integracao'] = '%s%07d' % (
                    'CR' if receivable else 'CP', counters[receivable])
        self.title_drafts = drafts

    def instalment_count(self, receivable, profile):
        rng = self.rng
        if profile in ('employee', 'partner', 'energy', 'water', 'telecom',
                'rent', 'accounting'):
            return 1
        if receivable:
            return rng.choices([1, 2, 3, 4, 6], [50, 15, 20, 8, 7])[0]
        return rng.choices([1, 2, 3, 4], [65, 15, 15, 5])[0]

    def document_drafts(self, receivable, party, profile, parcels):
        rng = self.rng
        today = self.today
        # Due dates span the 12 months before today and 3 months after.
        first_due = self.day_between(today - dt.timedelta(days=365),
            today + dt.timedelta(days=90))
        last_due = first_due + dt.timedelta(days=30 * (parcels - 1))
        horizon = today + dt.timedelta(days=90)
        if last_due > horizon:
            first_due -= last_due - horizon
        term = rng.choice([0, 7, 14, 21, 28, 30, 30, 30, 45])
        emission = min(first_due - dt.timedelta(days=term), today)
        if receivable:
            category = rng.choice(PROFILE_REVENUES.get(profile,
                ['1.01.01']))
        else:
            category = rng.choice(PROFILE_EXPENSES.get(profile,
                ['2.04.01']))
        if profile == 'employee':
            total = rng.choice([1850.0, 2200.0, 2780.0, 3450.0, 4900.0])
        elif profile == 'partner':
            total = 8000.0
        elif profile in ('energy', 'water', 'telecom'):
            total = rng.uniform(180, 2400)
        elif profile == 'rent':
            total = rng.choice([3500.0, 6800.0, 12000.0])
        else:
            total = min(max(rng.lognormvariate(7.0, 1.05), 35.0), 180000.0)
            if receivable:
                # A healthy company sells more than it buys.
                total *= 1.45
        total = money(total)
        via_api = rng.random() < 0.4
        if receivable:
            doc_type = rng.choice(DOCUMENT_TYPES_CR)
            number = '%s%d' % (rng.choice(['', 'PV-', 'OS-']),
                rng.randint(1000, 99999))
        else:
            doc_type = rng.choice(DOCUMENT_TYPES_CP)
            number = rng.choice(['NF %d', 'BOL %d', '%d', 'FAT-%d']) % (
                rng.randint(100, 999999))
        account = rng.choices(self.active_accounts, self.active_weights)[0]
        if account == self.cash_account and total > 1500:
            account = self.bank_accounts[0]
        rateio = (rng.random() < 0.06 and not receivable
                and profile in ('goods', 'both'))
        base = money(total / parcels)
        inc = min(emission + dt.timedelta(days=rng.choice([0, 0, 0, 1, 2])),
            today)
        inc_secs = self.office_hours()
        note = '' if rng.random() < 0.85 else rng.choice([
            'Pagamento conforme contrato.', 'Referente ao pedido do mês.',
            'Negociado com o financeiro.', 'Parcela renegociada.'])
        drafts = []
        for index in range(parcels):
            value = base if index < parcels - 1 else money(
                total - base * (parcels - 1))
            due = first_due + dt.timedelta(days=30 * index)
            record = {
                'codigo_lancamento_omie': 0,
                'codigo_lancamento_integracao': '',
                'codigo_cliente_fornecedor': party['codigo_cliente_omie'],
                'codigo_cliente_fornecedor_integracao':
                    party['codigo_cliente_integracao'],
                'data_vencimento': format_date(due),
                'data_previsao': format_date(due),
                'data_emissao': format_date(emission),
                'valor_documento': value,
                'codigo_categoria': category,
                'categorias': [{'codigo_categoria': category,
                    'valor': value, 'percentual': 100.0}],
                'id_conta_corrente': account,
                'numero_documento': number,
                'numero_documento_fiscal': '',
                'numero_parcela': '%03d/%03d' % (index + 1, parcels),
                'codigo_tipo_documento': doc_type,
                'chave_nfe': '',
                'observacao': note,
                'id_origem': ('APIR' if via_api else 'MANR') if receivable
                    else ('APIP' if via_api else 'MANP'),
                'importado_api': 'S' if via_api else 'N',
            }
            if receivable:
                record['data_registro'] = format_date(inc)
                record['boleto'] = {
                    'cGerado': 'S' if doc_type == 'BOL' else 'N',
                    'dDtEmBol': format_date(inc) if doc_type == 'BOL' else '',
                    'cNumBoleto': str(rng.randint(10 ** 9, 10 ** 10))
                        if doc_type == 'BOL' else '',
                    'cNumBancario': '', 'nPerJuros': 0.0, 'nPerMulta': 0.0}
            else:
                record['data_entrada'] = format_date(inc)
                if doc_type == 'BOL':
                    record['codigo_barras_ficha_compensacao'] = \
                        '%047d' % rng.randrange(10 ** 47)
            if rateio:
                second = '2.04.02'
                share = rng.choice([10.0, 15.0, 20.0, 25.0])
                part = money(value * share / 100)
                record['categorias'] = [
                    {'codigo_categoria': category,
                     'valor': money(value - part),
                     'percentual': 100.0 - share},
                    {'codigo_categoria': second, 'valor': part,
                     'percentual': share}]
            drafts.append({
                'record': record, 'receivable': receivable, 'party': party,
                'profile': profile, 'due': due, 'emission': emission,
                'inc': inc, 'inc_secs': inc_secs, 'via_api': via_api,
                'value': value, 'account': account,
            })
        return drafts

    def attach_invoices(self, drafts):
        """Sales of goods get an NF-e; some purchases carry the supplier's."""
        rng = self.rng
        documents = {}
        for draft in drafts:
            record = draft['record']
            key = (draft['receivable'], record['codigo_cliente_fornecedor'],
                record['numero_documento'], record['data_emissao'])
            documents.setdefault(key, []).append(draft)
        sales = []
        for key, group in documents.items():
            first = group[0]
            category = first['record']['codigo_categoria']
            if first['receivable'] and category == '1.01.01' and \
                    first['party']['codigo_pais'] == '1058' and \
                    rng.random() < 0.65:
                sales.append(group)
            elif not first['receivable'] and category == '2.04.01' and \
                    rng.random() < 0.5:
                supplier_cnpj = ''.join(ch for ch in
                    first['party']['cnpj_cpf'] if ch.isdigit()).rjust(14, '0')
                number = rng.randint(1000, 999999)
                chave = nfe_key(35, first['emission'], supplier_cnpj[:14], 1,
                    number, rng)
                for draft in group:
                    draft['record']['numero_documento_fiscal'] = str(number)
                    draft['record']['chave_nfe'] = chave
                    draft['record']['id_origem'] = 'NFEP' if \
                        rng.random() < 0.5 else 'XMLP'
        sales.sort(key=lambda g: (g[0]['emission'], g[0]['inc_secs']))
        self.sale_documents = sales
        number = 1000 + rng.randint(0, 500)
        for index, group in enumerate(sales):
            number += 1
            first = group[0]
            chave = nfe_key(35, first['emission'], self.company_cnpj, 1,
                number, rng)
            # ~3% cancelled, and always the fourth so small datasets have one
            cancelled = rng.random() < 0.03 or index == 3
            for draft in group:
                record = draft['record']
                record['numero_documento'] = '%09d' % number
                record['numero_documento_fiscal'] = str(number)
                record['chave_nfe'] = chave
                record['id_origem'] = 'NFER'
                record['codigo_tipo_documento'] = 'BOL' if \
                    record['codigo_tipo_documento'] == 'BOL' else 'DUP'
                draft['nf_number'] = number
                draft['nf_cancelled'] = cancelled

    # -- settlements ---------------------------------------------------
    def settle_titles(self):
        """Decide each title's fate relative to today and write the baixas."""
        rng = self.rng
        today = self.today
        self.settlement_drafts = []
        for draft in self.title_drafts:
            due = draft['due']
            value = draft['value']
            cancelled = draft.get('nf_cancelled', False)
            plan = []   # list of (date, principal, desconto, juros, multa)
            roll = rng.random()
            if not cancelled and roll < 0.025:
                cancelled = True
            elif cancelled:
                pass
            elif due < today:
                if roll < 0.86:
                    plan = self.full_payment(draft, due)
                elif roll < 0.92:
                    plan = [self.partial_payment(draft, due)]
            elif due == today:
                if roll < 0.3:
                    plan = [(today, value, 0.0, 0.0, 0.0)]
            else:
                if roll < 0.08:
                    plan = self.full_payment(draft, due)
                elif roll < 0.11:
                    plan = [self.partial_payment(draft, due)]
            draft['cancelled'] = cancelled
            draft['alt'], draft['alt_secs'] = draft['inc'], draft['inc_secs']
            if cancelled:
                cancel_day = self.day_between(draft['inc'], min(due, today))
                draft['alt'], draft['alt_secs'] = cancel_day, \
                    self.office_hours()
                if cancel_day == draft['inc']:
                    draft['alt_secs'] = max(draft['alt_secs'],
                        draft['inc_secs'])
            principal_total = 0.0
            for day, principal, desconto, juros, multa in plan:
                principal_total += principal
                paid = money(principal - desconto + juros + multa)
                account = draft['account'] if rng.random() < 0.9 else \
                    rng.choice(self.bank_accounts)
                secs = self.office_hours()
                self.settlement_drafts.append({
                    'title': draft, 'date': day, 'secs': secs,
                    'principal': principal, 'valor': paid,
                    'desconto': desconto, 'juros': juros, 'multa': multa,
                    'account': account,
                })
                if (day, secs) > (draft['alt'], draft['alt_secs']):
                    draft['alt'], draft['alt_secs'] = day, secs
            if not plan and not cancelled and rng.random() < 0.12:
                # Someone edited the title (due date, note...) after creation.
                edit = self.day_between(draft['inc'], today)
                secs = self.office_hours()
                if (edit, secs) > (draft['inc'], draft['inc_secs']):
                    draft['alt'], draft['alt_secs'] = edit, secs

    def full_payment(self, draft, due):
        rng = self.rng
        today = self.today
        value = draft['value']
        shift = rng.choices([-5, -2, -1, 0, 0, 0, 1, 3, 7, 15],
            [4, 4, 5, 30, 20, 10, 6, 6, 5, 4])[0]
        day = min(max(due + dt.timedelta(days=shift), draft['emission']),
            today)
        desconto = juros = multa = 0.0
        late_days = (day - due).days
        if late_days > 0 and rng.random() < 0.6:
            juros = money(value * 0.00033 * late_days)
            multa = money(value * 0.02)
        elif late_days < 0 and rng.random() < 0.25:
            desconto = money(value * rng.choice([0.02, 0.03, 0.05]))
        if rng.random() < 0.1 and value > 100:
            # Two baixas: a first part earlier, the rest on the final day.
            first_part = money(value * rng.choice([0.3, 0.4, 0.5]))
            first_day = self.day_between(draft['emission'], day)
            return [(first_day, first_part, 0.0, 0.0, 0.0),
                (day, money(value - first_part), desconto, juros, multa)]
        return [(day, value, desconto, juros, multa)]

    def partial_payment(self, draft, due):
        rng = self.rng
        value = draft['value']
        day = min(self.day_between(draft['emission'],
            due + dt.timedelta(days=10)), self.today)
        part = money(value * rng.choice([0.2, 0.3, 0.4, 0.5, 0.6, 0.7]))
        return (day, part, 0.0, 0.0, 0.0)

    # -- bank movements ------------------------------------------------
    def movement_drafts(self):
        "Current-account entries that are not settlements of titles"
        rng = self.rng
        today = self.today
        start = today - dt.timedelta(days=365)
        drafts = []
        partners = self.suppliers_by_profile.get('partner') or self.suppliers
        banks = self.bank_accounts
        while len(drafts) < self.n_movements:
            kind = rng.choices(
                ['tarifa', 'rendimento', 'juros', 'iof', 'transfer',
                 'suprimento', 'venda_balcao', 'despesa_caixa', 'prolabore'],
                [22, 10, 4, 4, 10, 6, 22, 14, 8])[0]
            day = self.day_between(start, today)
            secs = self.office_hours()
            bank = rng.choice(banks)
            if kind in ('transfer', 'suprimento'):
                if len(drafts) + 2 > self.n_movements:
                    continue
                if kind == 'transfer':
                    source, target = rng.sample(banks, 2) if len(banks) > 1 \
                        else (banks[0], self.cash_account)
                    value = money(rng.choice([1000, 2500, 5000, 10000, 20000]))
                    category, note = '0.01.01', 'Transferência entre contas'
                else:
                    source, target = bank, self.cash_account
                    value = money(rng.choice([200, 300, 500, 800]))
                    category, note = '0.01.02', 'Suprimento de caixa'
                drafts.append(dict(day=day, secs=secs, account=source,
                    nature='P', value=value, category=category, note=note,
                    party=0, origin='TRAP', target=target, doc_type='TRA'))
                drafts.append(dict(day=day, secs=secs, account=target,
                    nature='R', value=value, category=category, note=note,
                    party=0, origin='TRAR', target=source, doc_type='TRA'))
                continue
            spec = {
                'tarifa': ('P', '2.05.01', 'Tarifa de manutenção de conta',
                    rng.uniform(12, 95), bank, 'EXTP'),
                'rendimento': ('R', '1.02.02', 'Rendimento de aplicação automática',
                    rng.uniform(5, 650), bank, 'EXTR'),
                'juros': ('P', '2.05.02', 'Juros de cheque especial',
                    rng.uniform(20, 400), bank, 'EXTP'),
                'iof': ('P', '2.05.03', 'IOF sobre saldo devedor',
                    rng.uniform(1, 60), bank, 'EXTP'),
                'venda_balcao': ('R', '1.01.03', 'Vendas à vista no balcão',
                    rng.uniform(80, 1800), self.cash_account, 'MANR'),
                'despesa_caixa': ('P', '2.02.05', rng.choice([
                    'Compra de material de limpeza', 'Café e açúcar',
                    'Correios - envio de documentos', 'Estacionamento',
                    'Cópias e encadernação']), rng.uniform(8, 180),
                    self.cash_account, 'MANP'),
                'prolabore': ('P', '2.01.05', 'Retirada de pró-labore',
                    rng.choice([3000, 5000, 8000]), banks[0], 'MANP'),
            }[kind]
            nature, category, note, value, account, origin = spec
            party = rng.choice(partners)['codigo_cliente_omie'] \
                if kind == 'prolabore' else 0
            drafts.append(dict(day=day, secs=secs, account=account,
                nature=nature, value=money(value), category=category,
                note=note, party=party, origin=origin, target=0,
                doc_type={'P': 'DEB', 'R': 'CRE'}[nature] if origin.startswith(
                    'EXT') else '99999'))
        return drafts

    def conciliation(self, day):
        """Realised entries are conciliated within a few days (never after
        today); only API settlements without conciliar_documento wait."""
        return min(day + dt.timedelta(days=self.rng.randint(0, 3)),
            self.today)

    def build_ledger(self):
        """Give ids to settlements and movements, in chronological order."""
        rng = self.rng
        events = []
        for settlement in self.settlement_drafts:
            events.append(('S', settlement['date'], settlement['secs'],
                settlement))
        for movement in self.movement_drafts():
            events.append(('M', movement['day'], movement['secs'], movement))
        events.sort(key=lambda e: (e[1], e[2]))
        next_movement = IdSequence(rng, rng.randint(8, 9) * 10 ** 9)
        next_baixa = IdSequence(rng, 9 * 10 ** 9 + rng.randint(0, 10 ** 8))
        self.settlements = []
        self.movements = []
        for kind, day, secs, draft in events:
            conciliated = self.conciliation(day)
            user = self.user()
            if kind == 'S':
                title = draft['title']
                record = title['record']
                self.settlements.append({
                    'codigo_baixa': next_baixa(),
                    'codigo_baixa_integracao': '',
                    'codigo_lancamento': record['codigo_lancamento_omie'],
                    'codigo_lancamento_integracao':
                        record['codigo_lancamento_integracao'],
                    'natureza': 'R' if title['receivable'] else 'P',
                    'codigo_movimento_cc': next_movement(),
                    'codigo_conta_corrente': draft['account'],
                    'data': format_date(day),
                    'valor': draft['valor'],
                    'desconto': draft['desconto'], 'juros': draft['juros'],
                    'multa': draft['multa'],
                    'observacao': '',
                    'data_conciliacao': format_date(conciliated),
                    'info': make_info(day, secs, day, secs, user, user,
                        title['via_api']),
                })
                continue
            movement_id = next_movement()
            # Only the paying half of a transfer names the destination.
            target_field = draft['target'] if draft['nature'] == 'P' else 0
            self.movements.append({
                'nCodLanc': movement_id,
                'cCodIntLanc': '',
                'nCodAgrup': 0,
                'cabecalho': {'nCodCC': draft['account'],
                    'dDtLanc': format_date(day),
                    'nValorLanc': draft['value']},
                'detalhes': {'cCodCateg': draft['category'],
                    'aCodCateg': [], 'cTipo': draft['doc_type'],
                    'cNumDoc': '' if draft['origin'].startswith('EXT') else
                        '%06d' % rng.randint(1, 999999),
                    'nCodCliente': draft['party'], 'nCodProjeto': 0,
                    'cObs': draft['note']},
                'transferencia': {'nCodCCDestino': target_field},
                'departamentos': [],
                'diversos': {'cOrigem': draft['origin'],
                    'dDtConc': format_date(conciliated),
                    'cHrConc': '09:00:00' if conciliated else '',
                    'cUsConc': user if conciliated else '',
                    'nCodVendedor': 0, 'nCodComprador': 0,
                    'cNatureza': draft['nature'], 'cIdentLanc': '',
                    'nCodLancCP': 0, 'nCodLancCR': 0},
                'info': make_info(day, secs, day, secs, user, user, False),
            })

    # -- titles: final shape -------------------------------------------
    def finish_titles(self):
        self.payables = []
        self.receivables = []
        settlements_by_title = {}
        for settlement in self.settlements:
            settlements_by_title.setdefault(
                settlement['codigo_lancamento'], []).append(settlement)
        for draft in self.title_drafts:
            record = draft['record']
            mine = settlements_by_title.get(record['codigo_lancamento_omie'],
                [])
            paid = money(sum(s['valor'] for s in mine))
            principal = sum(s['valor'] + s['desconto'] - s['juros']
                - s['multa'] for s in mine)
            discount = sum(s['desconto'] for s in mine)
            record['valor_pag'] = paid
            record['status_titulo'] = title_status(
                receivable=draft['receivable'], cancelled=draft['cancelled'],
                value=record['valor_documento'], principal=principal,
                discount=discount, due=draft['due'], today=self.today,
                spelling='A VENCER')
            via_api = draft['via_api']
            record['info'] = make_info(draft['inc'], draft['inc_secs'],
                draft['alt'], draft['alt_secs'],
                'WEBSERVICE' if via_api else self.user(),
                'WEBSERVICE' if via_api and draft['alt'] == draft['inc']
                else self.user(), via_api)
            (self.receivables if draft['receivable'] else
                self.payables).append(record)

    # -- invoices --------------------------------------------------------
    def build_invoices(self):
        rng = self.rng
        next_id = IdSequence(rng, rng.randint(3, 4) * 10 ** 9)
        self.invoices = []
        for group in self.sale_documents:
            first = group[0]
            party = first['party']
            total = money(sum(d['value'] for d in group))
            items = self.invoice_items(total)
            emission = first['emission']
            cancelled = first.get('nf_cancelled', False)
            hour = first['inc_secs']
            cancel_day = min(emission + dt.timedelta(days=1), self.today) \
                if cancelled else None
            number = first['nf_number']
            icms = money(total * 0.18)
            record = {
                'ide': {
                    'indPag': '0' if len(group) == 1 else '1', 'mod': '55',
                    'serie': '1', 'nNF': str(number),
                    'dEmi': format_date(emission), 'hEmi': format_time(hour),
                    'dSaiEnt': format_date(emission),
                    'hSaiEnt': format_time(min(hour + 1800, 86399)),
                    'tpNF': '1', 'tpAmb': '1', 'finNFe': '1',
                    'dReg': format_date(first['inc']),
                    'dCan': format_date(cancel_day), 'dInut': '',
                    'cDeneg': 'N',
                },
                'nfEmitInt': {'nCodEmp': self.company['codigo_empresa'],
                    'cCodEmpInt': ''},
                'nfDestInt': {'nCodCli': party['codigo_cliente_omie'],
                    'cCodCliInt': party['codigo_cliente_integracao'],
                    'cRazao': party['razao_social'],
                    'cnpj_cpf': party['cnpj_cpf']},
                'det': items,
                'total': {
                    'ICMSTot': {
                        'vBC': total, 'vICMS': icms, 'vICMSDeson': 0.0,
                        'vBCST': 0.0, 'vST': 0.0, 'vProd': total,
                        'vFrete': 0.0, 'vSeg': 0.0, 'vDesc': 0.0, 'vII': 0.0,
                        'vIPI': 0.0, 'vPIS': money(total * 0.0065),
                        'vCOFINS': money(total * 0.03), 'vOutro': 0.0,
                        'vNF': total, 'vTotTrib': money(total * 0.2365),
                    },
                    'ISSQNtot': {'vServ': 0.0, 'vBC': 0.0, 'vISS': 0.0,
                        'vPIS': 0.0, 'vCOFINS': 0.0},
                    'retTrib': {'vRetPIS': 0.0, 'vRetCOFINS': 0.0,
                        'vRetCSLL': 0.0, 'vIRRF': 0.0, 'vRetPrev': 0.0},
                },
                'info': make_info(first['inc'], hour, cancel_day or
                    first['inc'], min(hour + 60, 86399) if not cancelled
                    else self.office_hours(), self.user(), self.user(),
                    first['via_api']),
                'compl': {'nIdNF': next_id(), 'nIdPedido': 0,
                    'cCodCateg': first['record']['codigo_categoria'],
                    'cChaveNFe': first['record']['chave_nfe'],
                    'nIdReceb': 0, 'nIdTransp': 0, 'cModFrete': '9'},
                'titulos': [{
                    'nCodTitulo': d['record']['codigo_lancamento_omie'],
                    'cCodIntTitulo': d['record']['codigo_lancamento_integracao'],
                    'cNumTitulo': d['record']['numero_documento'],
                    'dDtEmissao': d['record']['data_emissao'],
                    'dDtVenc': d['record']['data_vencimento'],
                    'dDtPrevisao': d['record']['data_previsao'],
                    'nValorTitulo': d['record']['valor_documento'],
                    'cCodCateg': d['record']['codigo_categoria'],
                    'nParcela': index + 1, 'nTotParc': len(group),
                } for index, d in enumerate(group)],
                'pedido': {'nIdPedido': 0, 'cNumPedido': ''},
            }
            self.invoices.append(record)

    def invoice_items(self, total):
        "1-4 products whose values add up to the invoice total"
        rng = self.rng
        count = rng.randint(1, 4)
        chosen = rng.sample(names.PRODUCTS, count)
        weights = [rng.random() + 0.2 for _ in chosen]
        scale = sum(weights)
        items = []
        remaining = total
        for index, (code, description, ncm, unit, price) in enumerate(chosen):
            value = remaining if index == count - 1 else money(
                total * weights[index] / scale)
            remaining = money(remaining - value)
            quantity = max(1, int(value // price)) if price else 1
            items.append({
                'prod': {'cProd': code, 'xProd': description, 'NCM': ncm,
                    'CFOP': '5.102', 'uCom': unit,
                    'qCom': float(quantity),
                    'vUnCom': money(value / quantity), 'vProd': value,
                    'vDesc': 0.0, 'vFrete': 0.0},
                'nfProdInt': {'nCodProd': 0, 'cCodProdInt': code,
                    'nCodItem': index + 1},
            })
        return items

    def balance_accounts(self):
        """Opening balances large enough that no account goes negative."""
        flows = {a['nCodCC']: [] for a in self.accounts}
        for s in self.settlements:
            sign = 1 if s['natureza'] == 'R' else -1
            flows[s['codigo_conta_corrente']].append(
                (s['data'][6:] + s['data'][3:5] + s['data'][:2],
                 sign * s['valor']))
        for m in self.movements:
            head = m['cabecalho']
            sign = 1 if m['diversos']['cNatureza'] == 'R' else -1
            day = head['dDtLanc']
            flows[head['nCodCC']].append(
                (day[6:] + day[3:5] + day[:2], sign * head['nValorLanc']))
        for account in self.accounts:
            balance = lowest = 0.0
            for _, amount in sorted(flows[account['nCodCC']]):
                balance += amount
                lowest = min(lowest, balance)
            cushion = 2500.0 if account['tipo_conta_corrente'] == 'CX' \
                else 15000.0
            if account['inativo'] == 'S':
                account['saldo_inicial'] = 0.0
            else:
                account['saldo_inicial'] = money(
                    round((cushion - lowest) / 100.0) * 100.0)

    def run(self):
        self.build_company()
        self.build_categories()
        self.build_accounts()
        self.build_parties()
        self.build_titles()
        self.settle_titles()
        self.build_ledger()
        self.finish_titles()
        self.build_invoices()
        self.balance_accounts()
        return Dataset(
            seed=self.seed, today=self.today, company=self.company,
            parties=self.parties, categories=self.categories,
            accounts=self.accounts, payables=self.payables,
            receivables=self.receivables, settlements=self.settlements,
            movements=self.movements, invoices=self.invoices)


def generate_dataset(seed=1, parties=200, titles=2000, movements=1000,
        today=None):
    """Build a deterministic Omie company.

    The same (seed, sizes, today) always gives the same data.  ``today``
    defaults to today in America/Sao_Paulo; all history lies before it and
    due dates reach three months past it.
    """
    if today is None:
        today = brazil_today(time.time())
    if isinstance(today, dt.datetime):
        today = today.date()
    parties = max(int(parties), 2)
    generator = _Generator(seed, parties, max(int(titles), 0),
        max(int(movements), 0), today)
    # Hundreds of thousands of small dicts and no cycles: the cyclic GC
    # would only rescan them over and over (it doubles the run time).
    with gc_paused():
        return generator.run()


@contextlib.contextmanager
def gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
