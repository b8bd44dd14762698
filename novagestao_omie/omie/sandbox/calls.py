"""Omie's calls: per-call parameter whitelists, filters, pagination, shapes.

Each call is registered under (path, call name) with the SOAP type name of
its request (used in Client-5001 "unknown tag" faults) and the exact set of
parameter names Omie documents for it (deprecated ones included, since Omie
still accepts them).  Anything else is rejected like Omie does.
"""
import json
import math
from collections import OrderedDict
from dataclasses import dataclass

from . import faults, shapes
from .formats import (digits, format_date, is_yes, local_stamp, money,
    parse_date, parse_time, stamp_of)
from .rows import CENT, bank_moved

SNAKE = ('pagina', 'registros_por_pagina', 'total_de_paginas', 'registros',
    'total_de_registros')
HUNGARIAN = ('nPagina', 'nRegPorPagina', 'nTotPaginas', 'nRegistros',
    'nTotRegistros')
DEFAULT_PAGE_SIZE = 50
DAY = 86400
MAX_STAMP = 10 ** 12


@dataclass
class Call:
    path: str
    name: str
    type_name: str
    params: frozenset
    handler: object
    write: bool = False
    nested: dict = None      # param name -> (type name, allowed keys)


REGISTRY = {}


def register(path, name, type_name, params, write=False, nested=None):
    def decorate(handler):
        REGISTRY[(path, name)] = Call(path, name, type_name,
            frozenset(params), handler, write, nested or {})
        return handler
    return decorate


class Context:
    "What a handler needs: the store, settings and Brasília's today"

    def __init__(self, store, settings, cache):
        self.store = store
        self.settings = settings
        self.cache = cache
        self.today = store.today()
        self.spelling = settings.status_spelling


class ListCache:
    """Filtered+sorted result lists, so walking page 1..N filters once.

    Keyed on the store version and today, so any write or a new day
    invalidates everything.
    """

    def __init__(self, size=32):
        self.size = size
        self.entries = OrderedDict()

    def get(self, key, build):
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        value = build()
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value


def cached(ctx, call, params, build, paging=SNAKE):
    filters = {k: v for k, v in params.items() if k not in paging[:2]}
    key = (call, json.dumps(filters, sort_keys=True, default=str),
        ctx.store.version, ctx.today)
    return ctx.cache.get(key, build)


def check_tags(call, params):
    "Client-5001 for any parameter the call's type does not declare"
    for name in params:
        if name not in call.params:
            raise faults.unknown_tag(name, call.type_name)
    for name, (type_name, allowed) in call.nested.items():
        value = params.get(name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                for key in item:
                    if key not in allowed:
                        raise faults.unknown_tag(key, type_name)


# -- parameter helpers ------------------------------------------------------

def date_param(params, key):
    try:
        return parse_date(params.get(key))
    except (ValueError, TypeError):
        raise faults.bad_date(key, params.get(key))


def time_param(params, key, default):
    try:
        return parse_time(params.get(key), default)
    except (ValueError, TypeError):
        raise faults.validation('Hora inválida [%s] informada na tag [%s]! '
            'Formato esperado: hh:mm:ss.' % (params.get(key), key))


def int_param(params, key, default=0):
    value = params.get(key)
    if value in (None, ''):
        return default
    if isinstance(value, bool):
        raise faults.validation('Valor inválido [%s] na tag [%s]!'
            % (value, key))
    try:
        return int(str(value).strip())
    except ValueError:
        raise faults.validation('Valor inválido [%s] na tag [%s]!'
            % (value, key))


def day_range(params, low_key, high_key):
    "Inclusive date range from two dd/mm/aaaa params, or None"
    low = date_param(params, low_key)
    high = date_param(params, high_key)
    if low is None and high is None:
        return None
    return (low.toordinal() if low else 0,
        high.toordinal() if high else MAX_STAMP)


def change_window(params, with_hours=False):
    """Omie's filtrar_por_data_de/_ate: a window over the inclusion OR the
    alteration stamp, narrowed by filtrar_apenas_inclusao/_alteracao.

    Returns a predicate on (inc_stamp, alt_stamp) or None.
    """
    low = date_param(params, 'filtrar_por_data_de')
    high = date_param(params, 'filtrar_por_data_ate')
    if low is None and high is None:
        return None
    low_secs = time_param(params, 'filtrar_por_hora_de', 0) if with_hours \
        else 0
    high_secs = time_param(params, 'filtrar_por_hora_ate', DAY - 1) if \
        with_hours else DAY - 1
    lo = local_stamp(low, low_secs) if low else 0
    hi = local_stamp(high, high_secs) if high else MAX_STAMP
    only_inc = is_yes(params.get('filtrar_apenas_inclusao'))
    only_alt = is_yes(params.get('filtrar_apenas_alteracao'))
    if only_inc and not only_alt:
        return lambda inc, alt: lo <= inc <= hi
    if only_alt and not only_inc:
        # What a record displays is what the filter finds it by: a record
        # never altered shows its inclusion as dAlt, and is found by it.
        return lambda inc, alt: lo <= alt <= hi
    return lambda inc, alt: lo <= inc <= hi or lo <= alt <= hi


def info_stamps(record, info_key='info'):
    info = record.get(info_key) or {}
    inc = stamp_of(info.get('dInc'), info.get('hInc'))
    alt = stamp_of(info.get('dAlt'), info.get('hAlt')) or inc
    return inc, alt


def paginate(ctx, items, params, paging, list_key, render):
    page_key, size_key, pages_key, count_key, total_key = paging
    page = int_param(params, page_key, 1)
    if page <= 0:
        page = 1     # Omie treats page 0 as page 1
    size = int_param(params, size_key, DEFAULT_PAGE_SIZE)
    if size <= 0:
        size = DEFAULT_PAGE_SIZE
    cap = ctx.settings.page_size_cap
    if cap and size > cap:
        raise faults.validation('O número de registros por página [%d] '
            'excede o limite máximo permitido [%d]!' % (size, cap))
    total = len(items)
    pages = max(1, math.ceil(total / size))
    if total == 0 or page > pages:
        raise faults.empty_page(page)
    chunk = items[(page - 1) * size: page * size]
    return {page_key: page, pages_key: pages, count_key: len(chunk),
        total_key: total, list_key: [render(item) for item in chunk]}


def sort_items(items, key, descending):
    if key is None and not descending:
        return items
    if key is None:
        return list(reversed(items))
    return sorted(items, key=key, reverse=descending)


# -- geral/empresas ---------------------------------------------------------

EMPRESAS = 'geral/empresas/'


@register(EMPRESAS, 'ListarEmpresas', 'empresas_list_request', [
        'pagina', 'registros_por_pagina', 'apenas_importado_api',
        'filtrar_por_data_de', 'filtrar_por_data_ate',
        'filtrar_apenas_inclusao', 'filtrar_apenas_alteracao',
        'ordenar_por', 'ordem_descrescente'])
def listar_empresas(ctx, params):
    items = list(ctx.store.companies)
    return paginate(ctx, items, params, SNAKE, 'empresas_cadastro', dict)


@register(EMPRESAS, 'ConsultarEmpresa', 'empresas_consultar',
        ['codigo_empresa'])
def consultar_empresa(ctx, params):
    code = int_param(params, 'codigo_empresa')
    for company in ctx.store.companies:
        if company['codigo_empresa'] == code:
            return dict(company)
    raise faults.not_found('Empresa', params.get('codigo_empresa'))


# -- geral/clientes ---------------------------------------------------------

CLIENTES = 'geral/clientes/'
CLIENT_FILTER_KEYS = {
    'codigo_cliente_omie', 'codigo_cliente_integracao', 'cnpj_cpf',
    'razao_social', 'nome_fantasia', 'endereco', 'bairro', 'cidade',
    'estado', 'cep', 'contato', 'email', 'homepage', 'inscricao_municipal',
    'inscricao_estadual', 'inscricao_suframa', 'pessoa_fisica',
    'optante_simples_nacional', 'inativo', 'tags'}
CLIENT_LIST_PARAMS = [
    'pagina', 'registros_por_pagina', 'apenas_importado_api',
    'filtrar_por_data_de', 'filtrar_por_data_ate', 'filtrar_por_hora_de',
    'filtrar_por_hora_ate', 'filtrar_apenas_inclusao',
    'filtrar_apenas_alteracao', 'clientesFiltro', 'clientesPorCodigo',
    'exibir_caracteristicas', 'exibir_obs', 'ordenar_por',
    'ordem_decrescente', 'ordem_descrescente']
CLIENT_NESTED = {
    'clientesFiltro': ('clientesFiltro', CLIENT_FILTER_KEYS),
    'clientesPorCodigo': ('clientesPorCodigo',
        {'codigo_cliente_omie', 'codigo_cliente_integracao'}),
}
CLIENT_FIELDS = set(shapes.PARTY_TEMPLATE) | {
    'tipo_atividade', 'cnae', 'obs_detalhadas', 'recomendacao_atraso',
    'nif', 'documento_exterior', 'logradouro'}
_TEXT_FILTERS = ('razao_social', 'nome_fantasia', 'endereco', 'bairro',
    'cidade', 'contato', 'email', 'homepage')
_EXACT_FILTERS = ('codigo_cliente_integracao', 'estado', 'inscricao_municipal',
    'inscricao_estadual', 'inscricao_suframa', 'pessoa_fisica',
    'optante_simples_nacional', 'inativo')


def client_predicate(params):
    checks = []
    window = change_window(params, with_hours=True)
    if window is not None:
        checks.append(lambda p: window(*info_stamps(p)))
    if is_yes(params.get('apenas_importado_api')):
        checks.append(lambda p: (p.get('info') or {}).get('cImpAPI') == 'S')
    wanted = params.get('clientesFiltro')
    if isinstance(wanted, list):
        wanted = wanted[0] if wanted else {}
    wanted = wanted or {}
    for key in _TEXT_FILTERS:
        if wanted.get(key):
            needle = str(wanted[key]).strip().lower()
            checks.append(lambda p, k=key, n=needle:
                n in str(p.get(k, '')).lower())
    for key in _EXACT_FILTERS:
        if wanted.get(key) not in (None, ''):
            value = str(wanted[key]).strip()
            checks.append(lambda p, k=key, v=value:
                str(p.get(k, '')).strip().upper() == v.upper())
    if wanted.get('codigo_cliente_omie'):
        code = int_param(wanted, 'codigo_cliente_omie')
        checks.append(lambda p: p['codigo_cliente_omie'] == code)
    if wanted.get('cnpj_cpf'):
        number = digits(wanted['cnpj_cpf'])
        checks.append(lambda p: digits(p.get('cnpj_cpf')) == number)
    if wanted.get('cep'):
        cep = digits(wanted['cep'])
        checks.append(lambda p: digits(p.get('cep')) == cep)
    if wanted.get('tags'):
        tags = wanted['tags']
        names = {(t.get('tag') if isinstance(t, dict) else str(t)).strip()
            .lower() for t in tags}
        checks.append(lambda p: names <= {t['tag'].lower()
            for t in p.get('tags') or []})
    codes = params.get('clientesPorCodigo')
    if codes:
        ids = {int_param(c, 'codigo_cliente_omie') for c in codes
            if c.get('codigo_cliente_omie')}
        int_codes = {str(c['codigo_cliente_integracao']) for c in codes
            if c.get('codigo_cliente_integracao')}
        checks.append(lambda p: p['codigo_cliente_omie'] in ids or
            p.get('codigo_cliente_integracao') in int_codes)
    return lambda p: all(check(p) for check in checks)


def client_list(ctx, params, call):
    def build():
        keep = client_predicate(params)
        items = [p for p in ctx.store.parties if keep(p)]
        order = str(params.get('ordenar_por') or 'CODIGO').upper()
        key = {'CODIGO_INTEGRACAO': lambda p: p.get(
                'codigo_cliente_integracao', ''),
            'RAZAO_SOCIAL': lambda p: p['razao_social'].lower(),
            'NOME_FANTASIA': lambda p: p.get('nome_fantasia', '').lower(),
            }.get(order, lambda p: p['codigo_cliente_omie'])
        descending = is_yes(params.get('ordem_decrescente')) or \
            is_yes(params.get('ordem_descrescente'))
        return sorted(items, key=key, reverse=descending)
    return cached(ctx, call, params, build)


@register(CLIENTES, 'ListarClientes', 'clientes_list_request',
        CLIENT_LIST_PARAMS, nested=CLIENT_NESTED)
def listar_clientes(ctx, params):
    items = client_list(ctx, params, 'ListarClientes')
    with_obs = is_yes(params.get('exibir_obs'))
    with_features = is_yes(params.get('exibir_caracteristicas'))
    return paginate(ctx, items, params, SNAKE, 'clientes_cadastro',
        lambda p: ctx.store.render_party(p, with_obs, with_features))


@register(CLIENTES, 'ListarClientesResumido', 'clientes_list_request',
        CLIENT_LIST_PARAMS, nested=CLIENT_NESTED)
def listar_clientes_resumido(ctx, params):
    items = client_list(ctx, params, 'ListarClientesResumido')
    return paginate(ctx, items, params, SNAKE, 'clientes_cadastro_resumido',
        lambda p: {'codigo_cliente': p['codigo_cliente_omie'],
            'codigo_cliente_integracao': p.get(
                'codigo_cliente_integracao', ''),
            'razao_social': p['razao_social'],
            'nome_fantasia': p.get('nome_fantasia', ''),
            'cnpj_cpf': p.get('cnpj_cpf', '')})


@register(CLIENTES, 'ConsultarCliente', 'clientes_cadastro_chave',
        ['codigo_cliente_omie', 'codigo_cliente_integracao'])
def consultar_cliente(ctx, params):
    party = ctx.store.party(params.get('codigo_cliente_omie'),
        params.get('codigo_cliente_integracao'))
    return ctx.store.render_party(party)


def client_status(party, message):
    return {'codigo_cliente_omie': party['codigo_cliente_omie'],
        'codigo_cliente_integracao': party.get(
            'codigo_cliente_integracao', ''),
        'codigo_status': '0', 'descricao_status': message}


@register(CLIENTES, 'IncluirCliente', 'clientes_cadastro', CLIENT_FIELDS,
        write=True)
def incluir_cliente(ctx, params):
    party = ctx.store.include_party(params)
    return client_status(party, 'Cliente cadastrado com sucesso!')


@register(CLIENTES, 'AlterarCliente', 'clientes_cadastro', CLIENT_FIELDS,
        write=True)
def alterar_cliente(ctx, params):
    party = ctx.store.alter_party(params)
    return client_status(party, 'Cliente alterado com sucesso!')


@register(CLIENTES, 'UpsertCliente', 'clientes_cadastro', CLIENT_FIELDS,
        write=True)
def upsert_cliente(ctx, params):
    party, created = ctx.store.upsert_party(params)
    return client_status(party, 'Cliente cadastrado com sucesso!' if created
        else 'Cliente alterado com sucesso!')


@register(CLIENTES, 'ExcluirCliente', 'clientes_cadastro_chave',
        ['codigo_cliente_omie', 'codigo_cliente_integracao'], write=True)
def excluir_cliente(ctx, params):
    party = ctx.store.party(params.get('codigo_cliente_omie'),
        params.get('codigo_cliente_integracao'))
    in_use = any(row.client == party['codigo_cliente_omie']
        for rows in ctx.store.titles.values() for row in rows)
    if in_use:
        raise faults.validation('Não é possível excluir o cliente, pois ele '
            'possui lançamentos vinculados!')
    ctx.store.delete_party(party)
    return client_status(party, 'Cliente excluído com sucesso!')


@register(CLIENTES, 'UpsertClienteCpfCnpj', 'clientes_cadastro',
        CLIENT_FIELDS, write=True)
def upsert_cliente_cpf_cnpj(ctx, params):
    number = digits(params.get('cnpj_cpf'))
    if not number:
        raise faults.required('cnpj_cpf')
    owners = ctx.store.documents_to_parties(number)
    if not owners:
        party = ctx.store.include_party(params)
        return client_status(party, 'Cliente cadastrado com sucesso!')
    party = ctx.store.party_by_id[min(owners)]
    changes = {k: v for k, v in params.items() if k != 'codigo_cliente_omie'}
    party = ctx.store.update_party(party, changes)
    return client_status(party, 'Cliente alterado com sucesso!')


@register(CLIENTES, 'AssociarCodIntCliente', 'clientes_cadastro_chave',
        ['codigo_cliente_omie', 'codigo_cliente_integracao'], write=True)
def associar_cod_int_cliente(ctx, params):
    if not params.get('codigo_cliente_omie'):
        raise faults.required('codigo_cliente_omie')
    if not params.get('codigo_cliente_integracao'):
        raise faults.required('codigo_cliente_integracao')
    party = ctx.store.party(params['codigo_cliente_omie'])
    party = ctx.store.update_party(party, {'codigo_cliente_integracao':
        str(params['codigo_cliente_integracao'])})
    return client_status(party, 'Código de integração associado com '
        'sucesso!')


# -- geral/categorias -------------------------------------------------------

CATEGORIAS = 'geral/categorias/'


@register(CATEGORIAS, 'ListarCategorias', 'categoria_list_request', [
        'pagina', 'registros_por_pagina', 'filtrar_apenas_ativo',
        'filtrar_por_tipo', 'apenas_importado_api', 'ordenar_por',
        'ordem_descrescente'])
def listar_categorias(ctx, params):
    kind = str(params.get('filtrar_por_tipo') or '').strip().upper()
    if kind not in ('', 'R', 'D'):
        raise faults.validation('Tipo de categoria inválido [%s]! Informe R '
            '(receita) ou D (despesa).' % kind)
    only_active = is_yes(params.get('filtrar_apenas_ativo'))
    items = []
    for category in ctx.store.categories:
        if (only_active or kind) and category['conta_inativa'] == 'S':
            continue
        if kind:
            if category['totalizadora'] == 'S' or \
                    category['nao_exibir'] == 'S':
                continue
            flag = 'conta_receita' if kind == 'R' else 'conta_despesa'
            if category[flag] != 'S':
                continue
        items.append(category)
    return paginate(ctx, items, params, SNAKE, 'categoria_cadastro',
        shapes.deep_copy)


@register(CATEGORIAS, 'IncluirCategoria', 'categoria_incluir', [
        'categoria_superior', 'descricao', 'natureza', 'tipo_categoria',
        'codigo_dre'], write=True)
def incluir_categoria(ctx, params):
    category = ctx.store.include_category(params)
    return {'codigo': category['codigo'], 'codigo_status': '0',
        'descricao_status': 'Categoria cadastrada com sucesso!'}


@register(CATEGORIAS, 'ConsultarCategoria', 'categoria_consultar',
        ['codigo'])
def consultar_categoria(ctx, params):
    code = str(params.get('codigo') or '').strip()
    if not code:
        raise faults.required('codigo')
    category = ctx.store.category_by_code.get(code)
    if category is None:
        raise faults.client_fault(105,
            'ERROR: Categoria não cadastrada para o Código [%s] !' % code)
    return shapes.deep_copy(category)


# -- geral/contacorrente ----------------------------------------------------

CONTACORRENTE = 'geral/contacorrente/'


def _account_stamps(account):
    inc = stamp_of(account.get('data_inc'), account.get('hora_inc'))
    alt = stamp_of(account.get('data_alt'), account.get('hora_alt')) or inc
    return inc, alt


@register(CONTACORRENTE, 'ListarContasCorrentes',
        'fin_conta_corrente_listar_request', [
        'pagina', 'registros_por_pagina', 'apenas_importado_api', 'codigo',
        'codigo_integracao', 'ordenar_por', 'ordem_descrescente',
        'filtrar_por_data_de', 'filtrar_por_data_ate',
        'filtrar_apenas_inclusao', 'filtrar_apenas_alteracao',
        'filtrar_apenas_ativo'])
def listar_contas_correntes(ctx, params):
    window = change_window(params)
    code = int_param(params, 'codigo')
    int_code = str(params.get('codigo_integracao') or '')
    items = []
    for account in ctx.store.accounts:
        if code and account['nCodCC'] != code:
            continue
        if int_code and account['cCodCCInt'] != int_code:
            continue
        if is_yes(params.get('filtrar_apenas_ativo')) and \
                account['inativo'] == 'S':
            continue
        if is_yes(params.get('apenas_importado_api')) and \
                account['importado_api'] != 'S':
            continue
        if window is not None and not window(*_account_stamps(account)):
            continue
        items.append(account)
    return paginate(ctx, items, params, SNAKE, 'ListarContasCorrentes', dict)


def _find_account(ctx, params, code_key, int_key):
    code = int_param(params, code_key)
    int_code = str(params.get(int_key) or '')
    for account in ctx.store.accounts:
        if (code and account['nCodCC'] == code) or (
                int_code and account['cCodCCInt'] == int_code):
            return account
    raise faults.account_not_found()


@register(CONTACORRENTE, 'ConsultarContaCorrente', 'fin_conta_corrente_chave',
        ['nCodCC', 'cCodCCInt'])
def consultar_conta_corrente(ctx, params):
    return dict(_find_account(ctx, params, 'nCodCC', 'cCodCCInt'))


@register(CONTACORRENTE, 'ListarResumoContasCorrentes',
        'fin_conta_corrente_resumo_request', [
        'pagina', 'registros_por_pagina', 'apenas_importado_api',
        'filtrar_apenas_ativo'])
def listar_resumo_contas_correntes(ctx, params):
    items = [a for a in ctx.store.accounts
        if not (is_yes(params.get('filtrar_apenas_ativo')) and
            a['inativo'] == 'S')]
    return paginate(ctx, items, params, SNAKE, 'conta_corrente_lista',
        lambda a: {'nCodCC': a['nCodCC'], 'cCodCCInt': a['cCodCCInt'],
            'descricao': a['descricao'], 'codigo_banco': a['codigo_banco'],
            'codigo_agencia': a['codigo_agencia'],
            'conta_corrente': a['numero_conta_corrente'],
            'tipo': a['tipo_conta_corrente'],
            'saldo_inicial': a['saldo_inicial'], 'saldo_data': a['saldo_data'],
            'valor_limite': a['valor_limite'], 'inativo': a['inativo']})


# -- financas/contapagar and contareceber ---------------------------------

CONTAPAGAR = 'financas/contapagar/'
CONTARECEBER = 'financas/contareceber/'
TITLE_LIST_PARAMS = [
    'pagina', 'registros_por_pagina', 'apenas_importado_api', 'ordenar_por',
    'ordem_descrescente', 'filtrar_por_data_de', 'filtrar_por_data_ate',
    'filtrar_apenas_inclusao', 'filtrar_apenas_alteracao',
    'filtrar_por_emissao_de', 'filtrar_por_emissao_ate',
    'filtrar_por_registro_de', 'filtrar_por_registro_ate',
    'filtrar_conta_corrente', 'filtrar_cliente', 'filtrar_por_cpf_cnpj',
    'filtrar_por_status', 'filtrar_por_projeto', 'filtrar_por_vendedor',
    'exibir_obs', 'filtrar_apenas_titulos_em_aberto']
OPEN_TOKENS = {'AVENCER', 'VENCEHOJE', 'ATRASADO', 'PAGTO_PARCIAL'}
STATUS_TOKENS = OPEN_TOKENS | {'PAGO', 'RECEBIDO', 'LIQUIDADO', 'CANCELADO'}
TITLE_ORDER = {
    'CODIGO': None,
    'CODIGO_INTEGRACAO': lambda r: r.code,
    'DATA_EMISSAO': lambda r: (r.emission or _MIN_DATE, r.id),
    'DATA_INCLUSAO': lambda r: (r.inc, r.id),
    'DATA_ALTERACAO': lambda r: (r.alt, r.id),
    'DATA_VENCIMENTO': lambda r: (r.due or _MIN_DATE, r.id),
    'DATA_PAGAMENTO': lambda r: (r.last_payment or _MIN_DATE, r.id),
}
_MIN_DATE = parse_date('01/01/1900')


def status_tokens(value, receivable):
    "filtrar_por_status / cStatus value -> set of status tokens"
    wanted = set()
    for part in str(value).replace(';', ',').split(','):
        token = part.strip().upper().replace(' ', '')
        if not token:
            continue
        if token == 'EMABERTO':
            wanted |= OPEN_TOKENS
        elif token in ('PAGO', 'RECEBIDO'):
            wanted.add('RECEBIDO' if receivable else 'PAGO')
        elif token in STATUS_TOKENS:
            wanted.add(token)
        else:
            raise faults.validation('Status inválido [%s] informado no '
                'filtro!' % part.strip())
    return wanted


def title_predicate(ctx, params, receivable):
    store = ctx.store
    today = ctx.today
    checks = []
    window = change_window(params)
    if window is not None:
        checks.append(lambda r: window(r.inc, r.alt))
    emission = day_range(params, 'filtrar_por_emissao_de',
        'filtrar_por_emissao_ate')
    if emission:
        lo, hi = emission
        checks.append(lambda r: r.emission is not None and
            lo <= r.emission.toordinal() <= hi)
    registro = day_range(params, 'filtrar_por_registro_de',
        'filtrar_por_registro_ate')
    if registro:
        lo_r, hi_r = registro
        checks.append(lambda r: r.registro is not None and
            lo_r <= r.registro.toordinal() <= hi_r)
    account = int_param(params, 'filtrar_conta_corrente')
    if account:
        checks.append(lambda r: r.account == account)
    client = int_param(params, 'filtrar_cliente')
    if client:
        checks.append(lambda r: r.client == client)
    if params.get('filtrar_por_cpf_cnpj'):
        owners = store.documents_to_parties(params['filtrar_por_cpf_cnpj'])
        checks.append(lambda r: r.client in owners)
    project = int_param(params, 'filtrar_por_projeto')
    if project:
        checks.append(lambda r: r.rec.get('codigo_projeto') == project)
    seller = int_param(params, 'filtrar_por_vendedor')
    if seller:
        checks.append(lambda r: r.rec.get('codigo_vendedor') == seller)
    if params.get('filtrar_por_status'):
        tokens = status_tokens(params['filtrar_por_status'], receivable)
        checks.append(lambda r: r.token(today) in tokens)
    if is_yes(params.get('filtrar_apenas_titulos_em_aberto')):
        checks.append(lambda r: r.token(today) in OPEN_TOKENS)
    if is_yes(params.get('apenas_importado_api')):
        checks.append(lambda r: r.imported)
    return lambda r: all(check(r) for check in checks)


def title_list(ctx, params, kind, call):
    receivable = kind == 'CR'
    order = str(params.get('ordenar_por') or 'CODIGO').strip().upper()
    allowed = TITLE_ORDER if receivable else {
        k: TITLE_ORDER[k] for k in ('CODIGO', 'CODIGO_INTEGRACAO')}
    if order not in allowed:
        raise faults.validation('Ordenação inválida [%s] informada na tag '
            '[ordenar_por]!' % order)

    def build():
        keep = title_predicate(ctx, params, receivable)
        rows = ctx.store.titles[kind]
        items = [r for r in rows if keep(r)]
        return sort_items(items, allowed[order],
            is_yes(params.get('ordem_descrescente')))
    return cached(ctx, call, params, build)


def list_titles(ctx, params, kind, call, list_key):
    items = title_list(ctx, params, kind, call)
    with_obs = is_yes(params.get('exibir_obs'))
    return paginate(ctx, items, params, SNAKE, list_key,
        lambda r: ctx.store.render_title(r, ctx.today, ctx.spelling,
            with_obs))


def title_response(row, message):
    return {'codigo_lancamento_omie': row.id,
        'codigo_lancamento_integracao': row.code,
        'codigo_status': '0', 'descricao_status': message}


PAYABLE_FIELDS = set(shapes.PAYABLE_TEMPLATE) | {
    'pagamento', 'baixar_documento', 'conciliar_documento', 'servico_tomado',
    'aprendizado_rateio', 'acao'}
RECEIVABLE_FIELDS = set(shapes.RECEIVABLE_TEMPLATE) | {
    'recebimento', 'baixar_documento', 'conciliar_documento',
    'lancamento_detalhe', 'repeticao', 'aprendizado_rateio', 'acao'}
TITLE_KEY = ['codigo_lancamento_omie', 'codigo_lancamento_integracao']
SETTLE_CP = ['codigo_lancamento', 'codigo_lancamento_integracao',
    'codigo_baixa_integracao', 'codigo_conta_corrente', 'valor', 'desconto',
    'juros', 'multa', 'data', 'observacao', 'conciliar_documento']
SETTLE_CR = ['codigo_lancamento', 'codigo_lancamento_integracao',
    'codigo_baixa', 'codigo_baixa_integracao', 'codigo_conta_corrente',
    'codigo_conta_corrente_integracao', 'valor', 'juros', 'desconto',
    'multa', 'data', 'observacao', 'bloqueado', 'conciliar_documento', 'nsu']


def settle_response(settlement, row):
    return {'codigo_lancamento': row.id,
        'codigo_lancamento_integracao': row.code,
        'codigo_baixa': settlement['codigo_baixa'],
        'codigo_baixa_integracao': settlement['codigo_baixa_integracao'],
        'liquidado': 'S' if row.open_amount <= CENT else 'N',
        'valor_baixado': settlement['valor'],
        'codigo_status': '0',
        'descricao_status': 'Baixa realizada com sucesso!'}


def cancel_settlement_response(settlement, row):
    return {'codigo_baixa': settlement['codigo_baixa'],
        'codigo_baixa_integracao': settlement['codigo_baixa_integracao'],
        'codigo_lancamento': row.id,
        'codigo_lancamento_integracao': row.code,
        'codigo_status': '0',
        'descricao_status': 'Baixa cancelada com sucesso!'}


def _register_titles(path, kind, prefix, fields, type_record, list_type,
        consult_type, settle_call, settle_type, settle_params, cancel_call,
        cancel_type, delete_type, delete_key):
    list_key = 'conta_receber_cadastro' if kind == 'CR' \
        else 'conta_pagar_cadastro'
    suffix = 'Receber' if kind == 'CR' else 'Pagar'
    plural = 'ContasReceber' if kind == 'CR' else 'ContasPagar'

    @register(path, 'Listar' + plural, list_type, TITLE_LIST_PARAMS)
    def listar(ctx, params):
        return list_titles(ctx, params, kind, 'Listar' + plural, list_key)

    @register(path, 'Consultar' + prefix + suffix, consult_type, TITLE_KEY)
    def consultar(ctx, params):
        row = ctx.store.title(kind, params.get('codigo_lancamento_omie'),
            params.get('codigo_lancamento_integracao'))
        return ctx.store.render_title(row, ctx.today, ctx.spelling)

    @register(path, 'Incluir' + prefix + suffix, type_record, fields,
        write=True)
    def incluir(ctx, params):
        row = ctx.store.include_title(kind, params)
        return title_response(row, 'Cadastro incluído com sucesso!')

    @register(path, 'Alterar' + prefix + suffix, type_record, fields,
        write=True)
    def alterar(ctx, params):
        row = ctx.store.alter_title(kind, params)
        return title_response(row, 'Cadastro alterado com sucesso!')

    @register(path, 'Upsert' + prefix + suffix, type_record, fields,
        write=True)
    def upsert(ctx, params):
        row, created = ctx.store.upsert_title(kind, params)
        return title_response(row, 'Cadastro incluído com sucesso!' if created
            else 'Cadastro alterado com sucesso!')

    @register(path, 'Excluir' + prefix + suffix, delete_type,
        [delete_key, 'codigo_lancamento_integracao'], write=True)
    def excluir(ctx, params):
        row = ctx.store.title(kind, params.get(delete_key),
            params.get('codigo_lancamento_integracao'))
        ctx.store.delete_title(row)
        return title_response(row, 'Lançamento excluído com sucesso!')

    @register(path, settle_call, settle_type, settle_params, write=True)
    def lancar(ctx, params):
        settlement, row = ctx.store.settle(kind, params,
            fee=ctx.settings.settlement_fee)
        return settle_response(settlement, row)

    @register(path, cancel_call, cancel_type,
        ['codigo_baixa', 'codigo_baixa_integracao'], write=True)
    def cancelar(ctx, params):
        settlement, row = ctx.store.cancel_settlement(kind, params)
        return cancel_settlement_response(settlement, row)


_register_titles(CONTAPAGAR, 'CP', 'Conta', PAYABLE_FIELDS,
    'conta_pagar_cadastro', 'lcpListarRequest', 'conta_pagar_cadastro_chave',
    'LancarPagamento', 'conta_pagar_lancar_pagamento', SETTLE_CP,
    'CancelarPagamento', 'conta_pagar_cancelar_pagamento',
    'conta_pagar_cadastro_chave', 'codigo_lancamento_omie')
_register_titles(CONTARECEBER, 'CR', 'Conta', RECEIVABLE_FIELDS,
    'conta_receber_cadastro', 'lcrListarRequest', 'lcrChave',
    'LancarRecebimento', 'conta_receber_lancar_recebimento', SETTLE_CR,
    'CancelarRecebimento', 'conta_receber_cancelar_recebimento',
    'conta_receber_cadastro_chave', 'chave_lancamento')


@register(CONTARECEBER, 'CancelarContaReceber', 'conta_receber_cadastro_chave',
        ['chave_lancamento', 'codigo_lancamento_integracao'], write=True)
def cancelar_conta_receber(ctx, params):
    row = ctx.store.title('CR', params.get('chave_lancamento'),
        params.get('codigo_lancamento_integracao'))
    ctx.store.cancel_title(row)
    return title_response(row, 'Lançamento cancelado com sucesso!')


# -- financas/mf: ListarMovimentos ----------------------------------------

MF = 'financas/mf/'
MF_PARAMS = [
    'nPagina', 'nRegPorPagina', 'cOrdenarPor', 'lDadosCad', 'nCodTitulo',
    'cCodIntTitulo', 'cNumTitulo', 'dDtEmisDe', 'dDtEmisAte', 'dDtVencDe',
    'dDtVencAte', 'dDtPagtoDe', 'dDtPagtoAte', 'dDtPrevDe', 'dDtPrevAte',
    'dDtRegDe', 'dDtRegAte', 'dDtIncDe', 'dDtIncAte', 'dDtAltDe',
    'dDtAltAte', 'nCodCliente', 'cCPFCNPJCliente', 'nCodCtr', 'cNumCtr',
    'nCodOS', 'cNumOS', 'nCodCC', 'cStatus', 'cNatureza', 'cTipo',
    'cOperacao', 'cNumDocFiscal', 'cCodigoBarras', 'nCodProjeto',
    'nCodVendedor', 'nCodComprador', 'cCodCateg', 'cTpLancamento',
    'cExibirDepartamentos', 'nCodMovCC']
MF_KINDS = {
    '': ('T', 'M'), 'CP': ('TP',), 'CR': ('TR',), 'CPCR': ('T',),
    'BX': ('B',), 'BXCP': ('BP',), 'BXCR': ('BR',),
    'CC': ('M',), 'CCE': ('MR',), 'CCS': ('MP',), 'CCT': ('MT',),
    'PV': (), 'POS': (), 'PPV': (),
}


class MfItem:
    """One ListarMovimentos row: a title (T), a settlement (B) or a
    current-account entry (M), with uniform accessors for the filters."""
    __slots__ = ('kind', 'obj', 'title')

    def __init__(self, kind, obj, title=None):
        self.kind = kind
        self.obj = obj
        self.title = title

    @property
    def sort_id(self):
        if self.kind == 'T':
            return self.obj.id
        if self.kind == 'B':
            return self.obj['codigo_baixa']
        return self.obj['nCodLanc']


def _mf_candidates(store, tp):
    kinds = MF_KINDS.get(tp)
    if kinds is None:
        raise faults.validation('Tipo de lançamento inválido [%s] informado '
            'na tag [cTpLancamento]!' % tp)
    items = []
    for kind in kinds:
        if kind[0] == 'T':
            for code in (('CP', 'CR') if kind == 'T' else
                    ('CP',) if kind == 'TP' else ('CR',)):
                items.extend(MfItem('T', row) for row in store.titles[code])
        elif kind[0] == 'B':
            for s in store.settlements:
                if kind == 'B' or s['natureza'] == kind[1]:
                    title = store.title_by_id.get(s['codigo_lancamento'])
                    if title is not None:
                        items.append(MfItem('B', s, title))
        else:
            for m in store.movements:
                nature = m['diversos']['cNatureza']
                origin = m['diversos']['cOrigem']
                if kind == 'M' or (kind == 'MT' and origin.startswith('TRA'))\
                        or kind[1:] == nature and kind != 'MT':
                    items.append(MfItem('M', m))
    return items


def _mf_fields(item, store, today):
    "The values the mf filters look at, per row kind"
    if item.kind == 'M':
        m = item.obj
        day = parse_date(m['cabecalho']['dDtLanc'])
        inc, alt = info_stamps(m)
        nature = m['diversos']['cNatureza']
        return {
            'nCodTitulo': 0, 'cCodIntTitulo': m.get('cCodIntLanc', ''),
            'cNumTitulo': m['detalhes'].get('cNumDoc', ''),
            'dDtEmis': day, 'dDtVenc': day, 'dDtPagto': day, 'dDtPrev': day,
            'dDtReg': day, 'dDtInc': inc, 'dDtAlt': alt,
            'nCodCliente': m['detalhes'].get('nCodCliente', 0),
            'nCodCC': m['cabecalho']['nCodCC'],
            'cStatus': 'RECEBIDO' if nature == 'R' else 'PAGO',
            'cNatureza': nature, 'cTipo': m['detalhes'].get('cTipo', ''),
            'cNumDocFiscal': '', 'cCodCateg': m['detalhes'].get('cCodCateg'),
            'nCodMovCC': m['nCodLanc'], 'nCodProjeto': m['detalhes'].get(
                'nCodProjeto', 0), 'nCodVendedor': 0,
        }
    row = item.obj if item.kind == 'T' else item.title
    rec = row.rec
    fields = {
        'nCodTitulo': row.id, 'cCodIntTitulo': row.code,
        'cNumTitulo': rec.get('numero_documento', ''),
        'dDtEmis': row.emission, 'dDtVenc': row.due,
        'dDtPagto': row.last_payment, 'dDtPrev': row.previsao,
        'dDtReg': row.registro, 'dDtInc': row.inc, 'dDtAlt': row.alt,
        'nCodCliente': row.client, 'nCodCC': row.account,
        'cStatus': row.token(today),
        'cNatureza': 'R' if row.receivable else 'P',
        'cTipo': rec.get('codigo_tipo_documento', ''),
        'cNumDocFiscal': rec.get('numero_documento_fiscal', ''),
        'cCodCateg': row.category, 'nCodMovCC': 0,
        'nCodProjeto': rec.get('codigo_projeto', 0),
        'nCodVendedor': rec.get('codigo_vendedor', 0),
    }
    if item.kind == 'B':
        s = item.obj
        inc, alt = info_stamps(s)
        fields.update({'dDtPagto': parse_date(s['data']), 'dDtInc': inc,
            'dDtAlt': alt, 'nCodCC': s['codigo_conta_corrente'],
            'nCodMovCC': s['codigo_movimento_cc']})
    return fields


_MF_DATE_FILTERS = [('dDtEmis', 'dDtEmisDe', 'dDtEmisAte'),
    ('dDtVenc', 'dDtVencDe', 'dDtVencAte'),
    ('dDtPagto', 'dDtPagtoDe', 'dDtPagtoAte'),
    ('dDtPrev', 'dDtPrevDe', 'dDtPrevAte'),
    ('dDtReg', 'dDtRegDe', 'dDtRegAte')]
_MF_STAMP_FILTERS = [('dDtInc', 'dDtIncDe', 'dDtIncAte'),
    ('dDtAlt', 'dDtAltDe', 'dDtAltAte')]
_MF_EQUAL_INT = ['nCodTitulo', 'nCodCliente', 'nCodCC', 'nCodMovCC',
    'nCodProjeto', 'nCodVendedor']
_MF_EQUAL_TEXT = ['cCodIntTitulo', 'cNumTitulo', 'cNatureza', 'cTipo',
    'cNumDocFiscal', 'cCodCateg']
# Filters on things the sandbox has none of: asking for a value matches
# nothing, exactly like an Omie company without contracts or OS.
_MF_ABSENT = ['nCodCtr', 'cNumCtr', 'nCodOS', 'cNumOS', 'cOperacao',
    'cCodigoBarras', 'nCodComprador']


def mf_predicate(ctx, params):
    checks = []
    for field, low_key, high_key in _MF_DATE_FILTERS:
        span = day_range(params, low_key, high_key)
        if span:
            checks.append(lambda f, k=field, s=span: f[k] is not None and
                s[0] <= f[k].toordinal() <= s[1])
    for field, low_key, high_key in _MF_STAMP_FILTERS:
        span = day_range(params, low_key, high_key)
        if span:
            checks.append(lambda f, k=field, s=span:
                s[0] <= f[k] // DAY <= s[1])
    for field in _MF_EQUAL_INT:
        value = int_param(params, field)
        if value:
            checks.append(lambda f, k=field, v=value: f[k] == v)
    for field in _MF_EQUAL_TEXT:
        value = str(params.get(field) or '').strip()
        if value:
            checks.append(lambda f, k=field, v=value.upper():
                str(f[k] or '').upper() == v)
    for field in _MF_ABSENT:
        if params.get(field) not in (None, '', 0):
            checks.append(lambda f: False)
    if params.get('cStatus'):
        tokens = set()
        for receivable in (False, True):
            tokens |= status_tokens(params['cStatus'], receivable)
        checks.append(lambda f: f['cStatus'] in tokens)
    if params.get('cCPFCNPJCliente'):
        owners = ctx.store.documents_to_parties(params['cCPFCNPJCliente'])
        checks.append(lambda f: f['nCodCliente'] in owners)
    return checks


def mf_list(ctx, params):
    tp = str(params.get('cTpLancamento') or '').strip().upper()
    order = str(params.get('cOrdenarPor') or 'CODIGO').strip().upper()
    if order not in ('CODIGO', 'CODIGO_INTEGRACAO'):
        raise faults.validation('Ordenação inválida [%s] informada na tag '
            '[cOrdenarPor]!' % order)

    def build():
        checks = mf_predicate(ctx, params)
        items = _mf_candidates(ctx.store, tp)
        if checks:
            kept = []
            for item in items:
                fields = _mf_fields(item, ctx.store, ctx.today)
                if all(check(fields) for check in checks):
                    kept.append(item)
            items = kept
        if order == 'CODIGO_INTEGRACAO':
            items.sort(key=lambda i: (_mf_fields(i, ctx.store, ctx.today)[
                'cCodIntTitulo'], i.sort_id))
        else:
            items.sort(key=lambda i: i.sort_id)
        return items
    return cached(ctx, 'ListarMovimentos', params, build, HUNGARIAN)


def render_mf(ctx, item, with_cad):
    store = ctx.store
    if item.kind == 'M':
        return render_mf_movement(store, item.obj, with_cad)
    row = item.obj if item.kind == 'T' else item.title
    rec = row.rec
    token = row.token(ctx.today)
    party = store.party_by_id.get(row.client) or {}
    closed = row.open_amount <= CENT and not row.cancelled
    detalhes = {
        'nCodTitulo': row.id, 'cCodIntTitulo': row.code,
        'cNumTitulo': rec.get('numero_documento', ''),
        'dDtEmissao': format_date(row.emission),
        'dDtVenc': format_date(row.due),
        'dDtPrevisao': format_date(row.previsao),
        'dDtPagamento': format_date(row.last_payment),
        'dDtRegistro': format_date(row.registro),
        'nCodCliente': row.client,
        'cCPFCNPJCliente': party.get('cnpj_cpf', ''),
        'nCodCC': row.account, 'cStatus': token,
        'cNatureza': 'R' if row.receivable else 'P',
        'cTipo': rec.get('codigo_tipo_documento', ''),
        'cOperacao': rec.get('operacao', ''),
        'cCodCateg': row.category,
        'cNumParcela': rec.get('numero_parcela', ''),
        'nValorTitulo': rec.get('valor_documento', 0.0),
        'nValorPIS': 0.0, 'nValorCOFINS': 0.0, 'nValorCSLL': 0.0,
        'nValorIR': 0.0, 'nValorISS': 0.0, 'nValorINSS': 0.0,
        'cOrigem': rec.get('id_origem', ''),
        'cGrupo': 'CONTA_A_RECEBER' if row.receivable else 'CONTA_A_PAGAR',
        'cNumDocFiscal': rec.get('numero_documento_fiscal', ''),
        'cChaveNFe': rec.get('chave_nfe', ''),
        'cCodigoBarras': rec.get('codigo_barras_ficha_compensacao', ''),
        'nCodProjeto': rec.get('codigo_projeto', 0),
        'nCodVendedor': rec.get('codigo_vendedor', 0),
        'nCodMovCC': 0, 'nValorMovCC': 0.0,
        'nDesconto': row.desconto, 'nJuros': row.juros, 'nMulta': row.multa,
        'nCodBaixa': 0, 'dDtCredito': '', 'dDtConcilia': '',
    }
    info = rec.get('info') or {}
    resumo = {
        'cLiquidado': 'S' if closed else 'N',
        'nValPago': row.paid,
        'nValAberto': row.open_amount,
        'nDesconto': row.desconto, 'nJuros': row.juros, 'nMulta': row.multa,
        'nValLiquido': money(row.value - row.desconto + row.juros
            + row.multa),
    }
    if item.kind == 'B':
        s = item.obj
        info = s.get('info') or {}
        detalhes.update({
            'dDtPagamento': s['data'], 'nCodCC': s['codigo_conta_corrente'],
            'cOrigem': 'BAXR' if row.receivable else 'BAXP',
            'nCodMovCC': s['codigo_movimento_cc'],
            'nValorMovCC': bank_moved(s),
            'nDesconto': s['desconto'], 'nJuros': s['juros'],
            'nMulta': s['multa'], 'nCodBaixa': s['codigo_baixa'],
            'dDtCredito': s['data'],
            'dDtConcilia': s.get('data_conciliacao', ''),
        })
        resumo = {
            'cLiquidado': 'S' if closed else 'N',
            'nValPago': s['valor'], 'nValAberto': row.open_amount,
            'nDesconto': s['desconto'], 'nJuros': s['juros'],
            'nMulta': s['multa'], 'nValLiquido': bank_moved(s),
        }
    if with_cad:
        detalhes.update(_cad_fields(info))
    categorias = [{'cCodCateg': c['codigo_categoria'],
        'nDistrPercentual': c.get('percentual', 0.0),
        'nDistrValor': c.get('valor', 0.0), 'nValorFixo': 'N'}
        for c in rec.get('categorias') or []]
    return {'detalhes': detalhes, 'resumo': resumo, 'departamentos': [],
        'categorias': categorias}


def _cad_fields(info):
    return {'dDtInc': info.get('dInc', ''), 'cHrInc': info.get('hInc', ''),
        'cUsInc': info.get('uInc', ''), 'dDtAlt': info.get('dAlt', ''),
        'cHrAlt': info.get('hAlt', ''), 'cUsAlt': info.get('uAlt', '')}


def render_mf_movement(store, m, with_cad):
    nature = m['diversos']['cNatureza']
    origin = m['diversos']['cOrigem']
    party = store.party_by_id.get(m['detalhes'].get('nCodCliente')) or {}
    value = m['cabecalho']['nValorLanc']
    day = m['cabecalho']['dDtLanc']
    detalhes = {
        'nCodTitulo': 0, 'cCodIntTitulo': m.get('cCodIntLanc', ''),
        'cNumTitulo': m['detalhes'].get('cNumDoc', ''),
        'dDtEmissao': day, 'dDtVenc': day, 'dDtPrevisao': day,
        'dDtPagamento': day, 'dDtRegistro': day,
        'nCodCliente': m['detalhes'].get('nCodCliente', 0),
        'cCPFCNPJCliente': party.get('cnpj_cpf', ''),
        'nCodCC': m['cabecalho']['nCodCC'],
        'cStatus': 'RECEBIDO' if nature == 'R' else 'PAGO',
        'cNatureza': nature, 'cTipo': m['detalhes'].get('cTipo', ''),
        'cOperacao': '', 'cCodCateg': m['detalhes'].get('cCodCateg', ''),
        'cNumParcela': '', 'nValorTitulo': value,
        'cOrigem': origin,
        'cGrupo': 'CONTA_CORRENTE_TRANSF' if origin.startswith('TRA') else (
            'CONTA_CORRENTE_REC' if nature == 'R' else 'CONTA_CORRENTE_PAG'),
        'cNumDocFiscal': '', 'nCodProjeto': 0, 'nCodVendedor': 0,
        'nCodMovCC': m['nCodLanc'], 'nValorMovCC': value,
        'nDesconto': 0.0, 'nJuros': 0.0, 'nMulta': 0.0, 'nCodBaixa': 0,
        'dDtCredito': day, 'dDtConcilia': m['diversos'].get('dDtConc', ''),
    }
    if with_cad:
        detalhes.update(_cad_fields(m.get('info') or {}))
    resumo = {'cLiquidado': 'S', 'nValPago': value, 'nValAberto': 0.0,
        'nDesconto': 0.0, 'nJuros': 0.0, 'nMulta': 0.0, 'nValLiquido': value}
    categorias = [{'cCodCateg': m['detalhes'].get('cCodCateg', ''),
        'nDistrPercentual': 100.0, 'nDistrValor': value, 'nValorFixo': 'N'}]
    return {'detalhes': detalhes, 'resumo': resumo, 'departamentos': [],
        'categorias': categorias}


@register(MF, 'ListarMovimentos', 'mfListarRequest', MF_PARAMS)
def listar_movimentos(ctx, params):
    items = mf_list(ctx, params)
    with_cad = is_yes(params.get('lDadosCad'))
    return paginate(ctx, items, params, HUNGARIAN, 'movimentos',
        lambda item: render_mf(ctx, item, with_cad))


# -- financas/contacorrentelancamentos: ListarLancCC -----------------------

LANCCC = 'financas/contacorrentelancamentos/'


def settlement_as_entry(store, s):
    "A baixa seen as a current-account entry (ListarLancCC shape)"
    row = store.title_by_id.get(s['codigo_lancamento'])
    rec = row.rec if row is not None else {}
    nature = s['natureza']
    conciliated = s.get('data_conciliacao', '')
    return {
        'nCodLanc': s['codigo_movimento_cc'],
        'cCodIntLanc': s.get('codigo_baixa_integracao', ''),
        'nCodAgrup': 0,
        'cabecalho': {'nCodCC': s['codigo_conta_corrente'],
            'dDtLanc': s['data'], 'nValorLanc': bank_moved(s)},
        'detalhes': {'cCodCateg': rec.get('codigo_categoria', ''),
            'aCodCateg': [], 'cTipo': rec.get('codigo_tipo_documento', ''),
            'cNumDoc': rec.get('numero_documento', ''),
            'nCodCliente': rec.get('codigo_cliente_fornecedor', 0),
            'nCodProjeto': rec.get('codigo_projeto', 0),
            'cObs': s.get('observacao', '')},
        'transferencia': {'nCodCCDestino': 0},
        'departamentos': [],
        'diversos': {'cOrigem': 'BAXR' if nature == 'R' else 'BAXP',
            'dDtConc': conciliated,
            'cHrConc': '09:00:00' if conciliated else '',
            'cUsConc': (s.get('info') or {}).get('uAlt', '') if conciliated
                else '',
            'nCodVendedor': 0, 'nCodComprador': 0, 'cNatureza': nature,
            'cIdentLanc': '',
            'nCodLancCP': s['codigo_lancamento'] if nature == 'P' else 0,
            'nCodLancCR': s['codigo_lancamento'] if nature == 'R' else 0},
        'info': dict(s.get('info') or {}),
    }


def cc_entries(store):
    "Every current-account entry: manual movements plus settlements"
    entries = [('M', m) for m in store.movements]
    entries.extend(('S', s) for s in store.settlements)
    return entries


def _entry_id(entry):
    kind, obj = entry
    return obj['nCodLanc'] if kind == 'M' else obj['codigo_movimento_cc']


def _entry_date(entry):
    kind, obj = entry
    return parse_date(obj['cabecalho']['dDtLanc'] if kind == 'M'
        else obj['data'])


@register(LANCCC, 'ListarLancCC', 'lanccListarRequest', [
        'nPagina', 'nRegPorPagina', 'cOrdenarPor', 'cOrdemDecrescente',
        'cOrigem', 'dDtIncDe', 'dDtIncAte', 'dDtAltDe', 'dDtAltAte',
        'dtPagInicial', 'dtPagFinal'])
def listar_lanc_cc(ctx, params):
    store = ctx.store
    order = str(params.get('cOrdenarPor') or 'CODIGO').strip().upper()
    keys = {'CODIGO': _entry_id,
        'CODIGO_INTEGRACAO': lambda e: (e[1].get('cCodIntLanc') or e[1].get(
            'codigo_baixa_integracao') or '', _entry_id(e)),
        'DATA_LANCAMENTO': lambda e: (_entry_date(e), _entry_id(e))}
    if order not in keys:
        raise faults.validation('Ordenação inválida [%s] informada na tag '
            '[cOrdenarPor]!' % order)

    def build():
        inc_span = day_range(params, 'dDtIncDe', 'dDtIncAte')
        alt_span = day_range(params, 'dDtAltDe', 'dDtAltAte')
        pay_span = day_range(params, 'dtPagInicial', 'dtPagFinal')
        origin = str(params.get('cOrigem') or '').strip().upper()
        items = []
        for entry in cc_entries(store):
            kind, obj = entry
            if origin:
                value = obj['diversos']['cOrigem'] if kind == 'M' else (
                    'BAXR' if obj['natureza'] == 'R' else 'BAXP')
                if value != origin:
                    continue
            if inc_span or alt_span:
                inc, alt = info_stamps(obj)
                if inc_span and not inc_span[0] <= inc // DAY <= inc_span[1]:
                    continue
                if alt_span and not alt_span[0] <= alt // DAY <= alt_span[1]:
                    continue
            if pay_span and not pay_span[0] <= _entry_date(
                    entry).toordinal() <= pay_span[1]:
                continue
            items.append(entry)
        items.sort(key=keys[order],
            reverse=is_yes(params.get('cOrdemDecrescente')))
        return items
    items = cached(ctx, 'ListarLancCC', params, build, HUNGARIAN)
    return paginate(ctx, items, params, HUNGARIAN, 'listaLancamentos',
        lambda e: shapes.deep_copy(e[1]) if e[0] == 'M'
        else settlement_as_entry(store, e[1]))


@register(LANCCC, 'ConsultaLancCC', 'lanccConsultarRequest',
        ['nCodLanc', 'cCodIntLanc'])
def consulta_lanc_cc(ctx, params):
    store = ctx.store
    code = int_param(params, 'nCodLanc')
    int_code = str(params.get('cCodIntLanc') or '')
    for kind, obj in cc_entries(store):
        entry_id = obj['nCodLanc'] if kind == 'M' else \
            obj['codigo_movimento_cc']
        entry_code = obj.get('cCodIntLanc') if kind == 'M' else \
            obj.get('codigo_baixa_integracao')
        if (code and entry_id == code) or (int_code and entry_code ==
                int_code):
            return shapes.deep_copy(obj) if kind == 'M' else \
                settlement_as_entry(store, obj)
    raise faults.not_found('Lançamento', params.get('nCodLanc') or int_code)


LANCCC_INPUT = ['cCodIntLanc', 'cabecalho', 'detalhes', 'transferencia',
    'departamentos']


def lanccc_status(movement, message):
    return {'nCodLanc': movement['nCodLanc'],
        'cCodIntLanc': movement.get('cCodIntLanc', ''),
        'cCodStatus': '0', 'cDesStatus': message}


@register(LANCCC, 'IncluirLancCC', 'lanccIncluirRequest', LANCCC_INPUT,
        write=True)
def incluir_lanc_cc(ctx, params):
    movement = ctx.store.include_movement(params)
    return lanccc_status(movement, 'Lançamento incluído com sucesso!')


@register(LANCCC, 'ExcluirLancCC', 'lanccExcluirRequest',
        ['nCodLanc', 'cCodIntLanc'], write=True)
def excluir_lanc_cc(ctx, params):
    movement = ctx.store.find_movement(params.get('nCodLanc'),
        params.get('cCodIntLanc'))
    ctx.store.change_movement(movement['nCodLanc'], {}, delete=True)
    return lanccc_status(movement, 'Lançamento excluído com sucesso!')


# -- financas/extrato: ListarExtrato -----------------------------------------

EXTRATO = 'financas/extrato/'


@register(EXTRATO, 'ListarExtrato', 'eccListarExtratoRequest', [
        'nCodCC', 'cCodIntCC', 'dPeriodoInicial', 'dPeriodoFinal',
        'cExibirApenasSaldo'])
def listar_extrato(ctx, params):
    store = ctx.store
    code = int_param(params, 'nCodCC')
    int_code = str(params.get('cCodIntCC') or '')
    account = None
    if code:
        account = store.account_by_id.get(code)
    elif int_code:
        account = next((a for a in store.accounts
            if a['cCodCCInt'] == int_code), None)
    else:
        raise faults.required('nCodCC')
    if account is None:
        raise faults.account_not_found()
    start = date_param(params, 'dPeriodoInicial')
    end = date_param(params, 'dPeriodoFinal')
    if start is None:
        raise faults.required('dPeriodoInicial')
    if end is None:
        raise faults.required('dPeriodoFinal')
    if end < start:
        raise faults.validation('A data final do período deve ser maior ou '
            'igual à data inicial!')
    return build_statement(ctx, account, start, end,
        is_yes(params.get('cExibirApenasSaldo')))


def _statement_rows(ctx, account):
    "Realised entries of one account: (date, id, signed value, row dict)"
    store = ctx.store
    rows = []
    for kind, obj in cc_entries(store):
        if kind == 'M':
            if obj['cabecalho']['nCodCC'] != account:
                continue
        elif obj['codigo_conta_corrente'] != account:
            continue
        rows.append((kind, obj))
    return rows


def _marker(description, day, balance, forecast):
    "Balance marker rows carry only these five fields (seen in captures)"
    return {'cDesCliente': description, 'dDataLancamento': format_date(day),
        'nValorDocumento': 0.0, 'nSaldo': balance, 'nSaldoPrev': forecast}


# The statement prints document types and origins as words, not codes.
DOCUMENT_TYPE_NAMES = {
    'BOL': 'Boleto', 'NF': 'Nota Fiscal', 'DUP': 'Duplicata', 'PIX': 'PIX',
    'TRA': 'Transferência', 'REC': 'Recibo', 'CRT': 'Cartão de Crédito',
    'CHQ': 'Cheque', 'DEB': 'Débito em Conta', 'CRE': 'Crédito em Conta',
    '99999': 'Outros',
}
ORIGIN_NAMES = {
    'BAXP': 'Contas a Pagar', 'BAXR': 'Contas a Receber',
    'EXTP': 'Extrato Bancário', 'EXTR': 'Extrato Bancário',
    'MANP': 'Lançamento Manual', 'MANR': 'Lançamento Manual',
    'TRAP': 'Transferência', 'TRAR': 'Transferência',
}


def _words(table, code):
    return table.get(code, code)


def _blank_statement_row():
    return {
        'nCodLancamento': 0, 'nCodLancRelac': 0, 'cSituacao': '',
        'dDataLancamento': '', 'cDesCliente': '', 'cTipoDocumento': '',
        'cNumero': '', 'nValorDocumento': 0.0, 'nSaldo': 0.0,
        'nSaldoPrev': 0.0, 'cCodCategoria': '', 'cDesCategoria': '',
        'cDocumentoFiscal': '', 'cParcela': '', 'cNossoNumero': '',
        'cOrigem': '', 'cVendedor': '', 'cProjeto': '', 'nCodCliente': 0,
        'cRazCliente': '', 'cDocCliente': '', 'cObservacoes': '',
        'cDataInclusao': '', 'cHoraInclusao': '', 'cNatureza': '',
        'cBloqueado': 'N', 'dDataConciliacao': '',
    }


def _entry_statement_row(store, kind, obj):
    row = _blank_statement_row()
    if kind == 'M':
        nature = obj['diversos']['cNatureza']
        value = obj['cabecalho']['nValorLanc']
        party_id = obj['detalhes'].get('nCodCliente', 0)
        category = obj['detalhes'].get('cCodCateg', '')
        row.update({
            'nCodLancamento': obj['nCodLanc'],
            'dDataLancamento': obj['cabecalho']['dDtLanc'],
            'cTipoDocumento': _words(DOCUMENT_TYPE_NAMES,
                obj['detalhes'].get('cTipo', '')),
            'cNumero': obj['detalhes'].get('cNumDoc', ''),
            'cOrigem': _words(ORIGIN_NAMES, obj['diversos']['cOrigem']),
            'cObservacoes': obj['detalhes'].get('cObs', ''),
            'dDataConciliacao': obj['diversos'].get('dDtConc', ''),
        })
        info = obj.get('info') or {}
    else:
        title = store.title_by_id.get(obj['codigo_lancamento'])
        rec = title.rec if title is not None else {}
        nature = obj['natureza']
        value = bank_moved(obj)
        party_id = rec.get('codigo_cliente_fornecedor', 0)
        category = rec.get('codigo_categoria', '')
        row.update({
            'nCodLancamento': obj['codigo_movimento_cc'],
            'nCodLancRelac': obj['codigo_lancamento'],
            'dDataLancamento': obj['data'],
            'cTipoDocumento': _words(DOCUMENT_TYPE_NAMES,
                rec.get('codigo_tipo_documento', '')),
            'cNumero': rec.get('numero_documento', ''),
            'cDocumentoFiscal': rec.get('numero_documento_fiscal', ''),
            'cParcela': rec.get('numero_parcela', ''),
            'cNossoNumero': (rec.get('boleto') or {}).get('cNumBancario', ''),
            'cOrigem': _words(ORIGIN_NAMES, 'BAXR' if nature == 'R'
                else 'BAXP'),
            'cObservacoes': obj.get('observacao', ''),
            'dDataConciliacao': obj.get('data_conciliacao', ''),
        })
        info = obj.get('info') or {}
    party = store.party_by_id.get(party_id) or {}
    row.update({
        'cSituacao': 'Conciliado' if row['dDataConciliacao'] else 'Pendente',
        'cDesCliente': party.get('nome_fantasia') or party.get(
            'razao_social', ''),
        'nValorDocumento': money(value if nature == 'R' else -value),
        'cCodCategoria': category,
        'cDesCategoria': store.category_name(category),
        'nCodCliente': party_id or 0,
        'cRazCliente': party.get('razao_social', ''),
        'cDocCliente': party.get('cnpj_cpf', ''),
        'cDataInclusao': info.get('dInc', ''),
        'cHoraInclusao': info.get('hInc', ''),
        'cNatureza': nature,
    })
    return row


def _forecast_row(store, row):
    "An open title's expected movement (cSituacao 'Previsto')"
    rec = row.rec
    party = store.party_by_id.get(row.client) or {}
    out = _blank_statement_row()
    amount = row.open_amount
    info = rec.get('info') or {}
    out.update({
        'nCodLancamento': row.id, 'cSituacao': 'Previsto',
        'dDataLancamento': format_date(row.previsao),
        'cDesCliente': party.get('nome_fantasia') or party.get(
            'razao_social', ''),
        'cTipoDocumento': _words(DOCUMENT_TYPE_NAMES,
            rec.get('codigo_tipo_documento', '')),
        'cNumero': rec.get('numero_documento', ''),
        'nValorDocumento': money(amount if row.receivable else -amount),
        'cCodCategoria': row.category,
        'cDesCategoria': store.category_name(row.category),
        'cDocumentoFiscal': rec.get('numero_documento_fiscal', ''),
        'cParcela': rec.get('numero_parcela', ''),
        'cOrigem': 'Previsão de Contas a Receber' if row.receivable
            else 'Previsão de Contas a Pagar',
        'nCodCliente': row.client, 'cRazCliente': party.get(
            'razao_social', ''),
        'cDocCliente': party.get('cnpj_cpf', ''),
        'cObservacoes': rec.get('observacao', ''),
        'cDataInclusao': info.get('dInc', ''),
        'cHoraInclusao': info.get('hInc', ''),
        'cNatureza': 'R' if row.receivable else 'P',
    })
    return out


def build_statement(ctx, account, start, end, only_balance):
    """ListarExtrato: realised entries (settlements and current-account
    entries) plus the forecast of open titles on this account, framed by
    'SALDO ANTERIOR' and 'SALDO' marker rows."""
    store = ctx.store
    account_id = account['nCodCC']
    opening = account.get('saldo_inicial', 0.0)
    opened = parse_date(account.get('saldo_data')) or start
    entries = []
    before = conciliated = 0.0
    for kind, obj in _statement_rows(ctx, account_id):
        day = parse_date(obj['cabecalho']['dDtLanc'] if kind == 'M'
            else obj['data'])
        nature = obj['diversos']['cNatureza'] if kind == 'M' \
            else obj['natureza']
        value = obj['cabecalho']['nValorLanc'] if kind == 'M' \
            else bank_moved(obj)
        signed = value if nature == 'R' else -value
        conciliation = obj['diversos'].get('dDtConc') if kind == 'M' \
            else obj.get('data_conciliacao')
        if day < opened:
            continue
        if day <= end and conciliation:
            conciliated += signed
        if day < start:
            before += signed
        elif day <= end:
            entry_id = obj['nCodLanc'] if kind == 'M' \
                else obj['codigo_movimento_cc']
            entries.append((day, entry_id, signed, kind, obj))
    entries.sort(key=lambda e: (e[0], e[1]))
    forecasts = []
    for code in ('CP', 'CR'):
        for row in store.titles[code]:
            if row.account != account_id or row.open_amount <= CENT:
                continue
            if row.previsao is None or not start <= row.previsao <= end:
                continue
            forecasts.append(row)
    forecasts.sort(key=lambda r: (r.previsao, r.id))
    previous = money(opening + before)
    balance = previous
    forecast_balance = previous
    movements = [_marker('SALDO ANTERIOR', start, previous, previous)]
    for day, _id, signed, kind, obj in entries:
        balance = money(balance + signed)
        forecast_balance = money(forecast_balance + signed)
        row = _entry_statement_row(store, kind, obj)
        row['nSaldo'] = balance
        row['nSaldoPrev'] = forecast_balance
        movements.append(row)
    for title in forecasts:
        row = _forecast_row(store, title)
        forecast_balance = money(forecast_balance + row['nValorDocumento'])
        row['nSaldo'] = balance
        row['nSaldoPrev'] = forecast_balance
        movements.append(row)
    movements.append(_marker('SALDO', end, balance, forecast_balance))
    limit = account.get('valor_limite', 0.0)
    kind_names = {'CC': 'Conta Corrente', 'CX': 'Caixa',
        'CA': 'Conta de Aplicação', 'CN': 'Conta de Investimento'}
    return {
        'nCodCC': account_id, 'cCodIntCC': account.get('cCodCCInt', ''),
        'nCodAgencia': account.get('codigo_agencia', ''),
        'nCodBanco': account.get('codigo_banco', ''),
        'nNumConta': account.get('numero_conta_corrente', ''),
        'cDescricao': account.get('descricao', ''),
        'cCodTipo': account.get('tipo_conta_corrente', ''),
        'cDesTipo': kind_names.get(account.get('tipo_conta_corrente'), ''),
        'cFluxoCaixa': 'N' if account.get('nao_fluxo') == 'S' else 'S',
        'cResumoExecutivo': 'N' if account.get('nao_resumo') == 'S' else 'S',
        'dPeriodoInicial': format_date(start),
        'dPeriodoFinal': format_date(end),
        'nSaldoAnterior': previous,
        'nSaldoAnteriorPrevisto': previous,
        'nSaldoAtual': balance,
        'nSaldoAtualPrevisto': forecast_balance,
        'nSaldoConciliado': money(opening + conciliated),
        'nSaldoProvisorio': balance,
        'nLimiteCreditoTotal': limit,
        'nSaldoDisponivel': money(balance + limit),
        'listaMovimentos': [] if only_balance else movements,
    }


# -- produtos/nfconsultar: ListarNF -------------------------------------------

NFCONSULTAR = 'produtos/nfconsultar/'
NF_PARAMS = [
    'pagina', 'registros_por_pagina', 'ordenar_por', 'ordem_decrescente',
    'filtrar_por_data_de', 'filtrar_por_data_ate', 'filtrar_apenas_inclusao',
    'filtrar_apenas_alteracao', 'filtrar_por_status', 'dEmiInicial',
    'dEmiFinal', 'hEmiInicial', 'hEmiFinal', 'dSaiEntInicial',
    'dSaiEntFinal', 'dRegInicial', 'dRegFinal', 'dCanInicial', 'dCanFinal',
    'dInutInicial', 'dInutFinal', 'tpNF', 'tpAmb', 'cSerie', 'nNFInicial',
    'nNFFinal', 'cDetalhesPedido', 'cApenasResumo', 'opPedido',
    'cNumeroPedidoCliente', 'nIdCliente', 'cnpj_cpf']


def nf_predicate(ctx, params):
    checks = []
    window = change_window(params)
    if window is not None:
        checks.append(lambda r: window(r.inc, r.alt))
    status = str(params.get('filtrar_por_status') or '').strip().upper()
    if status == 'C':
        checks.append(lambda r: r.cancel is not None)
    elif status == 'N':
        checks.append(lambda r: r.cancel is None)
    elif status:
        raise faults.validation('Status inválido [%s] informado na tag '
            '[filtrar_por_status]! Informe N ou C.' % status)
    spans = [('dEmiInicial', 'dEmiFinal', lambda r: r.emission),
        ('dSaiEntInicial', 'dSaiEntFinal', lambda r: r.emission),
        ('dRegInicial', 'dRegFinal', lambda r: r.reg),
        ('dCanInicial', 'dCanFinal', lambda r: r.cancel),
        ('dInutInicial', 'dInutFinal', lambda r: None)]
    for low, high, getter in spans:
        span = day_range(params, low, high)
        if span:
            checks.append(lambda r, s=span, g=getter: g(r) is not None and
                s[0] <= g(r).toordinal() <= s[1])
    for key, attr in (('tpNF', 'tpNF'), ('tpAmb', 'tpAmb')):
        if str(params.get(key) or '').strip():
            value = str(params[key]).strip()
            checks.append(lambda r, a=attr, v=value: r.rec['ide'][a] == v)
    if str(params.get('cSerie') or '').strip():
        serie = str(params['cSerie']).strip()
        checks.append(lambda r: r.serie == serie)
    low = int_param(params, 'nNFInicial')
    high = int_param(params, 'nNFFinal')
    if low or high:
        checks.append(lambda r: (not low or r.number >= low) and
            (not high or r.number <= high))
    client = int_param(params, 'nIdCliente')
    if client:
        checks.append(lambda r: r.client == client)
    if params.get('cnpj_cpf'):
        number = digits(params['cnpj_cpf'])
        checks.append(lambda r: digits(r.rec['nfDestInt'].get(
            'cnpj_cpf')) == number)
    if params.get('cNumeroPedidoCliente') or params.get('opPedido'):
        checks.append(lambda r: False)
    return lambda r: all(check(r) for check in checks)


@register(NFCONSULTAR, 'ListarNF', 'nfListarRequest', NF_PARAMS)
def listar_nf(ctx, params):
    order = str(params.get('ordenar_por') or 'CODIGO').strip().upper()
    keys = {'CODIGO': None, 'INTEGRACAO': lambda r: r.id,
        'DATA_LANCAMENTO': lambda r: (r.reg or _MIN_DATE, r.id)}
    if order not in keys:
        raise faults.validation('Ordenação inválida [%s] informada na tag '
            '[ordenar_por]!' % order)

    def build():
        keep = nf_predicate(ctx, params)
        items = [r for r in ctx.store.invoices if keep(r)]
        return sort_items(items, keys[order],
            is_yes(params.get('ordem_decrescente')))
    items = cached(ctx, 'ListarNF', params, build)
    summary = is_yes(params.get('cApenasResumo'))
    with_order = is_yes(params.get('cDetalhesPedido'))
    return paginate(ctx, items, params, SNAKE, 'nfCadastro',
        lambda r: render_nf(r, summary, with_order))


def render_nf(row, summary=False, with_order=True):
    out = shapes.deep_copy(row.rec)
    if summary:
        out.pop('det', None)
    if not with_order:
        out.pop('pedido', None)
    return out


@register(NFCONSULTAR, 'ConsultarNF', 'nfChave',
        ['nCodNF', 'nNF', 'serie', 'cChaveNFe', 'nIdPedido', 'cCodNFInt'])
def consultar_nf(ctx, params):
    code = int_param(params, 'nCodNF')
    key = str(params.get('cChaveNFe') or '').strip()
    number = int_param(params, 'nNF')
    serie = str(params.get('serie') or '').strip()
    for row in ctx.store.invoices:
        if (code and row.id == code) or (key and row.rec['compl'][
                'cChaveNFe'] == key) or (number and row.number == number and
                (not serie or serie == row.serie)):
            return render_nf(row)
    raise faults.client_fault(105, 'ERROR: Nota Fiscal não cadastrada para o '
        'Código [%s] !' % (code or key or number))


def lookup(path, name):
    return REGISTRY.get((path, name))


def calls_on(path):
    return sorted(name for p, name in REGISTRY if p == path)


PATHS = sorted({path for path, _ in REGISTRY})
