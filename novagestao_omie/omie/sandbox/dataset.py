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

from . import names
from .dataset_parties import PartyDrafts
from .dataset_titles import TitleDrafts
from .drafting import IdSequence, make_info
from .formats import ascii_upper, brazil_today, format_date, format_time, money

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


class _Generator(PartyDrafts, TitleDrafts):
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
