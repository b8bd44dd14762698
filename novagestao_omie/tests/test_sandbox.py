"""The Omie sandbox, exercised over real HTTP on 127.0.0.1.

No test sleeps for real: time comes from an injected clock and the pauses
the sandbox makes (latency, timeouts, webhook retries) go through an
injected ``sleep``.
"""
import collections
import datetime as dt
import json
import threading
import unittest
import urllib.parse

import requests
from stdnum.br import cnpj as cnpj_rules
from stdnum.br import cpf as cpf_rules
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from novagestao_omie.omie.sandbox import (Sandbox, SandboxSettings,
    generate_dataset)

TODAY = dt.date(2026, 11, 21)
BRT = dt.timezone(dt.timedelta(hours=-3))
SIZES = dict(parties=80, titles=600, movements=300)


def digits(text):
    return ''.join(ch for ch in text if ch.isdigit())


class FakeClock:
    "Epoch seconds that only move when a test says so"

    def __init__(self, when=dt.datetime(2026, 11, 21, 15, 0, 0, tzinfo=BRT)):
        self.now = when.timestamp()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class FakeSleep:
    "Records pauses; optionally blocks until released (to hold requests)"

    def __init__(self):
        self.calls = []
        self.gate = None
        self.entered = threading.Semaphore(0)

    def __call__(self, seconds):
        self.calls.append(seconds)
        if self.gate is not None:
            self.entered.release()
            self.gate.wait(10)


_DATASET = None


def dataset():
    global _DATASET
    if _DATASET is None:
        _DATASET = generate_dataset(seed=7, today=TODAY, **SIZES)
    return _DATASET


class SandboxCase(unittest.TestCase):
    "A fresh sandbox + server per test; helpers to call it like a client"
    settings = {'redundant_window': 0}

    def setUp(self):
        self.clock = FakeClock()
        self.sleep = FakeSleep()
        self.data = dataset()
        self.sandbox = Sandbox(self.data, settings=SandboxSettings(
            clock=self.clock, sleep=self.sleep, **self.settings))
        self.server = self.sandbox.serve(port=0)
        self.http = requests.Session()
        self.addCleanup(self.http.close)
        self.addCleanup(self.sandbox.shutdown)

    def post(self, path, call, param=None, app_key=None, app_secret=None,
            raw=None):
        body = raw if raw is not None else {
            'call': call,
            'app_key': self.sandbox.app_key if app_key is None else app_key,
            'app_secret': self.sandbox.app_secret if app_secret is None
                else app_secret,
            'param': [param if param is not None else {}]}
        return self.http.post(self.server.url + '/api/v1/' + path,
            json=body, timeout=10)

    def ok(self, path, call, **param):
        response = self.post(path, call, param)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def fault(self, path, call, status=500, **param):
        response = self.post(path, call, param)
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        self.assertEqual(set(body), {'faultstring', 'faultcode'})
        return body, response

    def walk(self, path, call, list_key, page_key='pagina',
            size_key='registros_por_pagina', size=100, **param):
        records, page = [], 1
        while True:
            response = self.post(path, call,
                dict(param, **{page_key: page, size_key: size}))
            if response.status_code != 200:
                body = response.json()
                self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-5113')
                return records
            records.extend(response.json()[list_key])
            page += 1

    def admin(self, endpoint, payload=None):
        url = self.server.url + '/_sandbox/' + endpoint
        if payload is None:
            return self.http.get(url, timeout=10)
        return self.http.post(url, json=payload, timeout=10)

    def a_supplier(self):
        return next(p for p in self.data.parties if p['inativo'] == 'N' and
            {'tag': 'Fornecedor'} in p['tags'] and p['cnpj_cpf'])

    def an_account(self):
        return self.data.accounts[0]['nCodCC']


# --------------------------------------------------------------------------
class DatasetTest(unittest.TestCase):
    def test_same_seed_same_data_other_seed_other_data(self):
        first = generate_dataset(seed=3, today=TODAY, parties=30, titles=120,
            movements=40)
        again = generate_dataset(seed=3, today=TODAY, parties=30, titles=120,
            movements=40)
        other = generate_dataset(seed=4, today=TODAY, parties=30, titles=120,
            movements=40)
        self.assertEqual(json.dumps(first.__dict__, default=str),
            json.dumps(again.__dict__, default=str))
        self.assertNotEqual(first.parties, other.parties)

    def test_documents_have_valid_check_digits_except_a_few(self):
        data = dataset()
        documents = [p['cnpj_cpf'] for p in data.parties if p['cnpj_cpf']]
        valid = [d for d in documents if cnpj_rules.is_valid(d) or
            cpf_rules.is_valid(d)]
        self.assertGreaterEqual(len(valid), len(documents) - 5)
        self.assertTrue(any(len(digits(d)) == 11 for d in valid))
        self.assertTrue(any(len(digits(d)) == 14 for d in valid))
        for document in valid:   # formatted as Omie prints them
            self.assertIn(document, (cnpj_rules.format(document),
                cpf_rules.format(document)))
        self.assertTrue(cnpj_rules.is_valid(data.company['cnpj']))

    def test_parties_are_varied_and_complete(self):
        data = dataset()
        tags = collections.Counter(frozenset(t['tag'] for t in p['tags'])
            for p in data.parties)
        self.assertTrue(any('Cliente' in t and 'Fornecedor' in t
            for t in tags))
        self.assertTrue(any('Transportadora' in t for t in tags))
        foreign = [p for p in data.parties if p['codigo_pais'] != '1058']
        self.assertTrue(foreign)
        for party in foreign:
            self.assertEqual((party['estado'], party['cnpj_cpf']), ('EX', ''))
        self.assertTrue(any(p['inativo'] == 'S' for p in data.parties))
        accented = [p for p in data.parties
            if any(ord(ch) > 127 for ch in p['razao_social'])]
        self.assertTrue(accented)
        for party in data.parties:
            self.assertEqual(set(party['info']), {'dInc', 'hInc', 'uInc',
                'dAlt', 'hAlt', 'uAlt', 'cImpAPI'})
            self.assertGreaterEqual(party['codigo_cliente_omie'], 10 ** 9)
            if party['codigo_pais'] == '1058':
                self.assertRegex(party['cidade'], r'^[A-Z ]+ \([A-Z]{2}\)$')

    def test_titles_cover_every_status_and_link_settlements(self):
        data = dataset()
        statuses = {t['status_titulo'] for t in data.payables
            + data.receivables}
        for status in ('A VENCER', 'ATRASADO', 'PAGO', 'RECEBIDO',
                'CANCELADO', 'PAGTO_PARCIAL', 'LIQUIDADO'):
            self.assertIn(status, statuses)
        paid = collections.defaultdict(float)
        for s in data.settlements:
            paid[s['codigo_lancamento']] += s['valor']
        for title in data.payables + data.receivables:
            self.assertAlmostEqual(title['valor_pag'],
                paid[title['codigo_lancamento_omie']], places=2)
            self.assertRegex(title['numero_parcela'], r'^\d{3}/\d{3}$')
        dues = [dt.datetime.strptime(t['data_vencimento'], '%d/%m/%Y').date()
            for t in data.payables]
        self.assertLess(min(dues), TODAY - dt.timedelta(days=300))
        self.assertGreater(max(dues), TODAY + dt.timedelta(days=30))
        expense = {t['codigo_categoria'][:2] for t in data.payables}
        self.assertEqual(expense, {'2.'})
        self.assertEqual({t['codigo_categoria'][:2] for t in
            data.receivables}, {'1.'})

    def test_invoices_match_their_receivables(self):
        data = dataset()
        titles = {t['codigo_lancamento_omie']: t for t in data.receivables}
        self.assertTrue(data.invoices)
        self.assertTrue(any(nf['ide']['dCan'] for nf in data.invoices))
        for nf in data.invoices:
            key = nf['compl']['cChaveNFe']
            self.assertEqual(len(key), 44)
            self.assertTrue(key.isdigit())
            total = sum(t['nValorTitulo'] for t in nf['titulos'])
            self.assertAlmostEqual(total, nf['total']['ICMSTot']['vNF'], 2)
            for item in nf['titulos']:
                title = titles[item['nCodTitulo']]
                self.assertEqual(title['chave_nfe'], key)
                self.assertEqual(title['numero_documento_fiscal'],
                    nf['ide']['nNF'])
                if nf['ide']['dCan']:
                    self.assertEqual(title['status_titulo'], 'CANCELADO')


# --------------------------------------------------------------------------
class ShapeTest(SandboxCase):
    PAGED = {
        ('geral/empresas/', 'ListarEmpresas'): 'empresas_cadastro',
        ('geral/clientes/', 'ListarClientes'): 'clientes_cadastro',
        ('geral/clientes/', 'ListarClientesResumido'):
            'clientes_cadastro_resumido',
        ('geral/categorias/', 'ListarCategorias'): 'categoria_cadastro',
        ('geral/contacorrente/', 'ListarContasCorrentes'):
            'ListarContasCorrentes',
        ('financas/contapagar/', 'ListarContasPagar'): 'conta_pagar_cadastro',
        ('financas/contareceber/', 'ListarContasReceber'):
            'conta_receber_cadastro',
        ('produtos/nfconsultar/', 'ListarNF'): 'nfCadastro',
    }

    def test_snake_lists_answer_with_paging_keys_and_their_array(self):
        for (path, call), list_key in self.PAGED.items():
            body = self.ok(path, call, pagina=1, registros_por_pagina=3)
            self.assertEqual(set(body), {'pagina', 'total_de_paginas',
                'registros', 'total_de_registros', list_key}, call)
            self.assertEqual(body['registros'], len(body[list_key]))

    def test_title_record_keys_and_formats(self):
        body = self.ok('financas/contapagar/', 'ListarContasPagar',
            pagina=1, registros_por_pagina=50)
        for record in body['conta_pagar_cadastro']:
            for key in ('codigo_lancamento_omie',
                    'codigo_lancamento_integracao',
                    'codigo_cliente_fornecedor', 'data_vencimento',
                    'data_previsao', 'data_emissao', 'data_entrada',
                    'valor_documento', 'valor_pag', 'codigo_categoria',
                    'categorias', 'id_conta_corrente', 'numero_parcela',
                    'status_titulo', 'info', 'id_origem', 'retem_pis'):
                self.assertIn(key, record)
            self.assertNotIn('observacao', record)     # exibir_obs absent
            self.assertRegex(record['data_vencimento'], r'^\d\d/\d\d/\d{4}$')
            self.assertIsInstance(record['valor_documento'], float)
            self.assertIn(record['retem_pis'], ('S', 'N'))
        body = self.ok('financas/contareceber/', 'ListarContasReceber',
            pagina=1, registros_por_pagina=5, exibir_obs='S')
        record = body['conta_receber_cadastro'][0]
        for key in ('data_registro', 'boleto', 'observacao', 'nCodPedido'):
            self.assertIn(key, record)

    def test_consult_calls(self):
        party = self.data.parties[3]
        body = self.ok('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_omie=party['codigo_cliente_omie'])
        self.assertEqual(body['razao_social'], party['razao_social'])
        payable = self.data.payables[0]
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=payable['codigo_lancamento_omie'])
        self.assertEqual(body['valor_documento'], payable['valor_documento'])
        receivable = next(r for r in self.data.receivables
            if r['codigo_lancamento_integracao'])
        body = self.ok('financas/contareceber/', 'ConsultarContaReceber',
            codigo_lancamento_integracao=receivable[
                'codigo_lancamento_integracao'])
        self.assertEqual(body['codigo_lancamento_omie'],
            receivable['codigo_lancamento_omie'])
        body = self.ok('geral/categorias/', 'ConsultarCategoria',
            codigo='2.02.02')
        self.assertEqual(body['descricao'], 'Energia Elétrica')
        self.assertEqual(body['categoria_superior'], '2.02')
        company = self.ok('geral/empresas/', 'ConsultarEmpresa',
            codigo_empresa=self.data.company['codigo_empresa'])
        self.assertEqual(company['inativa'], 'N')

    def test_movements_lanccc_statement_and_nf_shapes(self):
        body = self.ok('financas/mf/', 'ListarMovimentos', nPagina=1,
            nRegPorPagina=5, cTpLancamento='CP')
        self.assertEqual(set(body), {'nPagina', 'nTotPaginas', 'nRegistros',
            'nTotRegistros', 'movimentos'})
        movement = body['movimentos'][0]
        self.assertEqual(set(movement), {'detalhes', 'resumo',
            'departamentos', 'categorias'})
        self.assertEqual(set(movement['resumo']), {'cLiquidado', 'nValPago',
            'nValAberto', 'nDesconto', 'nJuros', 'nMulta', 'nValLiquido'})
        body = self.ok('financas/contacorrentelancamentos/', 'ListarLancCC',
            nPagina=1, nRegPorPagina=5)
        entry = body['listaLancamentos'][0]
        for key in ('nCodLanc', 'cCodIntLanc', 'cabecalho', 'detalhes',
                'diversos', 'info', 'transferencia'):
            self.assertIn(key, entry)
        self.assertEqual(set(entry['cabecalho']),
            {'nCodCC', 'dDtLanc', 'nValorLanc'})
        self.assertIn(entry['diversos']['cNatureza'], ('P', 'R'))
        nf = self.ok('produtos/nfconsultar/', 'ListarNF', pagina=1,
            registros_por_pagina=1)['nfCadastro'][0]
        for key in ('ide', 'nfDestInt', 'total', 'compl', 'titulos', 'info'):
            self.assertIn(key, nf)
        self.assertIn('vNF', nf['total']['ICMSTot'])


# --------------------------------------------------------------------------
class PaginationTest(SandboxCase):
    def test_snake_walk_covers_everything_then_5113(self):
        records = self.walk('financas/contapagar/', 'ListarContasPagar',
            'conta_pagar_cadastro', size=70)
        ids = [r['codigo_lancamento_omie'] for r in records]
        self.assertEqual(len(ids), len(self.data.payables))
        self.assertEqual(ids, sorted(ids))
        body, response = self.fault('financas/contapagar/',
            'ListarContasPagar', pagina=99, registros_por_pagina=70)
        self.assertEqual(body, {'faultcode': 'SOAP-ENV:Client-5113',
            'faultstring': 'ERROR: Não existem registros para a página [99]!'})
        self.assertEqual(response.headers['OmieAPI-Error'],
            '5113 - Não existem registros para a página [99]!')

    def test_hungarian_walk(self):
        records = self.walk('financas/mf/', 'ListarMovimentos', 'movimentos',
            page_key='nPagina', size_key='nRegPorPagina', size=90,
            cTpLancamento='CR')
        self.assertEqual(len(records), len(self.data.receivables))
        body = self.ok('financas/mf/', 'ListarMovimentos', nPagina=2,
            nRegPorPagina=90, cTpLancamento='CR')
        self.assertEqual(body['nPagina'], 2)
        self.assertEqual(body['nTotRegistros'], len(self.data.receivables))
        self.assertEqual(body['nTotPaginas'],
            -(-len(self.data.receivables) // 90))

    def test_page_zero_is_page_one_and_zero_matches_is_5113(self):
        body = self.ok('geral/clientes/', 'ListarClientes', pagina=0,
            registros_por_pagina=5)
        self.assertEqual(body['pagina'], 1)
        body, _ = self.fault('geral/clientes/', 'ListarClientes', pagina=1,
            registros_por_pagina=5,
            clientesFiltro={'razao_social': 'nao existe ninguem assim'})
        self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-5113')

    def test_page_size_cap(self):
        body, _ = self.fault('geral/clientes/', 'ListarClientes', pagina=1,
            registros_por_pagina=501)
        self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-102')
        self.assertIn('[500]', body['faultstring'])
        self.sandbox.settings.page_size_cap = 1000
        self.ok('geral/clientes/', 'ListarClientes', pagina=1,
            registros_por_pagina=501)


# --------------------------------------------------------------------------
class EnvelopeTest(SandboxCase):
    def test_bad_or_missing_credentials(self):
        for key, secret in ((None, 'x' * 32), ('999', None), ('', '')):
            response = self.post('geral/empresas/', 'ListarEmpresas', {},
                app_key=key if key is not None else self.sandbox.app_key,
                app_secret=secret if secret is not None
                else self.sandbox.app_secret)
            self.assertEqual(response.status_code, 500)
            self.assertEqual(response.json(), {'faultcode': 'SOAP-ENV:Server',
                'faultstring': 'A chave de acesso não está preenchida ou não '
                'é válida.'})
        self.sandbox.configure(auth_fault_status=403)
        response = self.post('geral/empresas/', 'ListarEmpresas', {},
            app_key='1')
        self.assertEqual(response.status_code, 403)

    def test_numeric_app_key_and_legacy_query_form(self):
        response = self.post('geral/empresas/', 'ListarEmpresas',
            {'pagina': 1}, app_key=int(self.sandbox.app_key))
        self.assertEqual(response.status_code, 200)
        envelope = json.dumps({'call': 'ListarEmpresas',
            'app_key': self.sandbox.app_key,
            'app_secret': self.sandbox.app_secret,
            'param': [{'pagina': 1, 'registros_por_pagina': 2}]})
        response = self.http.post(self.server.url + '/api/v1/geral/empresas/'
            '?JSON=' + urllib.parse.quote(envelope))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()['total_de_registros'], 1)

    def test_transport_errors(self):
        url = self.server.url + '/api/v1/geral/clientes'
        response = self.http.post(url, json={}, allow_redirects=False)
        self.assertEqual(response.status_code, 301)
        self.assertTrue(response.headers['Location'].endswith(
            '/api/v1/geral/clientes/'))
        response = self.http.get(url + '/')
        self.assertEqual(response.status_code, 405)
        response = self.http.post(url + '/', data='{"call": ')
        self.assertEqual(response.status_code, 500)
        self.assertIn('Invalid JSON Object', response.json()['faultstring'])
        response = self.http.post(self.server.url + '/api/v1/geral/nada/',
            json={})
        self.assertEqual(response.status_code, 404)

    def test_unknown_call_and_unknown_tags(self):
        body, _ = self.fault('geral/clientes/', 'ListarContasPagar')
        self.assertEqual(body['faultcode'], 'SOAP-ENV:Server')
        self.assertIn('ListarContasPagar', body['faultstring'])
        body, response = self.fault('financas/contapagar/',
            'ListarContasPagar', pagina=1, filtrar_por_conta_corrente=1)
        self.assertEqual(body, {'faultcode': 'SOAP-ENV:Client-5001',
            'faultstring': 'ERROR: Tag [FILTRAR_POR_CONTA_CORRENTE] não faz '
            'parte da estrutura do tipo complexo [lcpListarRequest]!'})
        self.assertTrue(response.headers['OmieAPI-Error'].startswith(
            '5001 - Tag [FILTRAR_POR_CONTA_CORRENTE]'))
        body, _ = self.fault('geral/clientes/', 'ConsultarCliente',
            cnpj_cpf='11222333000181')
        self.assertIn('[CNPJ_CPF]', body['faultstring'])
        body, _ = self.fault('financas/mf/', 'ListarMovimentos', pagina=1)
        self.assertIn('[PAGINA]', body['faultstring'])
        self.assertIn('[mfListarRequest]', body['faultstring'])
        body, _ = self.fault('geral/clientes/', 'ListarClientes', pagina=1,
            clientesFiltro={'cpf': '1'})
        self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-5001')

    def test_param_must_be_one_object_and_inactive_company(self):
        response = self.post('geral/empresas/', 'ListarEmpresas', raw={
            'call': 'ListarEmpresas', 'app_key': self.sandbox.app_key,
            'app_secret': self.sandbox.app_secret, 'param': [{}, {}]})
        self.assertEqual(response.status_code, 500)
        self.sandbox.configure(company_active=False)
        response = self.post('geral/empresas/', 'ListarEmpresas', {})
        self.assertEqual(response.status_code, 500)
        self.assertIn('inativa', response.json()['faultstring'])


# --------------------------------------------------------------------------
class FilterTest(SandboxCase):
    def test_change_window_over_alteration(self):
        payable = self.data.payables[10]
        omie_id = payable['codigo_lancamento_omie']
        self.sandbox.change('payable', omie_id, observacao='Revisado')
        records = self.walk('financas/contapagar/', 'ListarContasPagar',
            'conta_pagar_cadastro', filtrar_por_data_de='21/11/2026',
            filtrar_por_data_ate='21/11/2026', filtrar_apenas_alteracao='S')
        self.assertIn(omie_id, [r['codigo_lancamento_omie'] for r in records])
        changed = next(r for r in records
            if r['codigo_lancamento_omie'] == omie_id)
        self.assertEqual((changed['info']['dAlt'], changed['info']['hAlt']),
            ('21/11/2026', '15:00:00'))
        inclusions = self.walk('financas/contapagar/', 'ListarContasPagar',
            'conta_pagar_cadastro', filtrar_por_data_de='21/11/2026',
            filtrar_apenas_inclusao='S')
        self.assertNotIn(omie_id,
            [r['codigo_lancamento_omie'] for r in inclusions])
        for record in records:
            self.assertEqual(record['info']['dAlt'], '21/11/2026')

    def test_alteration_window_finds_what_dalt_displays(self):
        "A record never altered shows dAlt = dInc and is found by it"
        never = next(p for p in self.data.payables
            if (p['info']['dAlt'], p['info']['hAlt'])
            == (p['info']['dInc'], p['info']['hInc']))
        day = never['info']['dAlt']
        records = self.walk('financas/contapagar/', 'ListarContasPagar',
            'conta_pagar_cadastro', filtrar_por_data_de=day,
            filtrar_por_data_ate=day, filtrar_apenas_alteracao='S')
        self.assertIn(never['codigo_lancamento_omie'],
            [r['codigo_lancamento_omie'] for r in records])
        for record in records:
            self.assertEqual(record['info']['dAlt'], day)

    def test_status_account_and_client_filters(self):
        overdue = self.walk('financas/contapagar/', 'ListarContasPagar',
            'conta_pagar_cadastro', filtrar_por_status='ATRASADO')
        self.assertTrue(overdue)
        for record in overdue:
            self.assertEqual(record['status_titulo'], 'ATRASADO')
            due = dt.datetime.strptime(record['data_vencimento'],
                '%d/%m/%Y').date()
            self.assertLess(due, TODAY)
        open_ = self.walk('financas/contareceber/', 'ListarContasReceber',
            'conta_receber_cadastro', filtrar_apenas_titulos_em_aberto='S')
        self.assertTrue(open_)
        self.assertTrue({r['status_titulo'] for r in open_} <= {
            'A VENCER', 'ATRASADO', 'VENCE HOJE', 'PAGTO_PARCIAL'})
        account = self.data.accounts[1]['nCodCC']
        in_account = self.walk('financas/contareceber/',
            'ListarContasReceber', 'conta_receber_cadastro',
            filtrar_conta_corrente=account)
        expected = [r for r in self.data.receivables
            if r['id_conta_corrente'] == account]
        self.assertEqual(len(in_account), len(expected))
        client = self.data.receivables[0]['codigo_cliente_fornecedor']
        document = next(p['cnpj_cpf'] for p in self.data.parties
            if p['codigo_cliente_omie'] == client)
        by_client = self.walk('financas/contareceber/', 'ListarContasReceber',
            'conta_receber_cadastro', filtrar_cliente=client)
        self.assertTrue(by_client)
        self.assertEqual({r['codigo_cliente_fornecedor'] for r in by_client},
            {client})
        if document:
            by_document = self.walk('financas/contareceber/',
                'ListarContasReceber', 'conta_receber_cadastro',
                filtrar_por_cpf_cnpj=digits(document))
            self.assertEqual(len(by_document), len(by_client))

    def test_status_is_computed_from_the_clock(self):
        future = next(p for p in self.data.payables
            if p['status_titulo'] == 'A VENCER')
        due = dt.datetime.strptime(future['data_vencimento'], '%d/%m/%Y')
        self.clock.now = due.replace(hour=12, tzinfo=BRT).timestamp()
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=future['codigo_lancamento_omie'])
        self.assertEqual(body['status_titulo'], 'VENCE HOJE')
        self.clock.advance(86400)
        self.sandbox.configure(status_spelling='AVENCER')
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=future['codigo_lancamento_omie'])
        self.assertEqual(body['status_titulo'], 'ATRASADO')
        self.clock.now = FakeClock().now
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=future['codigo_lancamento_omie'])
        self.assertEqual(body['status_titulo'], 'AVENCER')

    def test_client_filters(self):
        suppliers = self.walk('geral/clientes/', 'ListarClientes',
            'clientes_cadastro',
            clientesFiltro={'tags': [{'tag': 'Fornecedor'}]})
        expected = [p for p in self.data.parties
            if {'tag': 'Fornecedor'} in p['tags']]
        self.assertEqual(len(suppliers), len(expected))
        party = next(p for p in self.data.parties
            if len(digits(p['cnpj_cpf'])) == 14)
        found = self.ok('geral/clientes/', 'ListarClientes', pagina=1,
            registros_por_pagina=10,
            clientesFiltro={'cnpj_cpf': digits(party['cnpj_cpf'])})
        self.assertEqual([p['codigo_cliente_omie'] for p in
            found['clientes_cadastro']], [party['codigo_cliente_omie']])
        inactive = self.walk('geral/clientes/', 'ListarClientes',
            'clientes_cadastro', clientesFiltro={'inativo': 'S'})
        self.assertEqual({p['inativo'] for p in inactive}, {'S'})
        codes = [{'codigo_cliente_omie': p['codigo_cliente_omie']}
            for p in self.data.parties[:3]]
        body = self.ok('geral/clientes/', 'ListarClientes', pagina=1,
            registros_por_pagina=10, clientesPorCodigo=codes)
        self.assertEqual(body['total_de_registros'], 3)

    def test_category_filters(self):
        expenses = self.walk('geral/categorias/', 'ListarCategorias',
            'categoria_cadastro', filtrar_por_tipo='D')
        self.assertTrue(expenses)
        for category in expenses:
            self.assertEqual((category['conta_despesa'],
                category['totalizadora'], category['conta_inativa']),
                ('S', 'N', 'N'))
        everything = self.walk('geral/categorias/', 'ListarCategorias',
            'categoria_cadastro')
        self.assertEqual(len(everything), len(self.data.categories))
        self.assertTrue(30 <= len(everything) <= 45)
        # Omie's codes are dotted (1.01, 1.01.02); a row's parent is listed
        codes = {c['codigo'] for c in everything}
        for category in everything:
            self.assertRegex(category['codigo'], r'^\d+\.\d\d(\.\d\d)*$')
            parent = category['categoria_superior']
            self.assertTrue(not parent or parent in codes, category)
            self.assertEqual(bool(parent), category['codigo'].count('.') > 1)

    def test_settlements_through_movements_and_statement(self):
        settlements = self.walk('financas/mf/', 'ListarMovimentos',
            'movimentos', page_key='nPagina', size_key='nRegPorPagina',
            size=200, cTpLancamento='BXCP')
        expected = [s for s in self.data.settlements if s['natureza'] == 'P']
        self.assertEqual(len(settlements), len(expected))
        for item in settlements[:30]:
            detail = item['detalhes']
            self.assertGreater(detail['nCodBaixa'], 0)
            self.assertGreater(detail['nCodTitulo'], 0)
            self.assertRegex(detail['dDtPagamento'], r'^\d\d/\d\d/\d{4}$')
            for key in ('nValorMovCC', 'nDesconto', 'nJuros', 'nMulta',
                    'nCodCC'):
                self.assertIn(key, detail)
        self.assertTrue(any(i['detalhes']['nJuros'] > 0 for i in settlements))
        account = self.data.accounts[0]
        statement = self.ok('financas/extrato/', 'ListarExtrato',
            nCodCC=account['nCodCC'], dPeriodoInicial='01/06/2026',
            dPeriodoFinal='21/11/2026')
        rows = statement['listaMovimentos']
        self.assertEqual(rows[0]['cDesCliente'], 'SALDO ANTERIOR')
        self.assertEqual(rows[-1]['cDesCliente'], 'SALDO')
        for marker in (rows[0], rows[-1]):
            self.assertEqual(set(marker), {'cDesCliente', 'dDataLancamento',
                'nValorDocumento', 'nSaldo', 'nSaldoPrev'})
        self.assertEqual({r['cSituacao'] for r in rows[1:-1]},
            {'Conciliado', 'Previsto'})
        realised = [r for r in rows[1:-1] if r['cSituacao'] != 'Previsto']
        self.assertTrue(realised)
        total = sum(r['nValorDocumento'] for r in realised)
        self.assertAlmostEqual(statement['nSaldoAnterior'] + total,
            statement['nSaldoAtual'], places=2)
        self.assertEqual(realised[-1]['nSaldo'], statement['nSaldoAtual'])
        self.assertTrue(any(r['nValorDocumento'] < 0 for r in realised))
        self.assertTrue(any(r['nCodLancRelac'] for r in realised))
        only = self.ok('financas/extrato/', 'ListarExtrato',
            cCodIntCC=account['cCodCCInt'], dPeriodoInicial='01/06/2026',
            dPeriodoFinal='21/11/2026', cExibirApenasSaldo='S')
        self.assertEqual(only['listaMovimentos'], [])
        self.assertEqual(only['nSaldoAtual'], statement['nSaldoAtual'])

    def test_hungarian_date_filters(self):
        changed = self.data.payables[20]['codigo_lancamento_omie']
        self.sandbox.change('payable', changed, numero_documento='X-1')
        body = self.ok('financas/mf/', 'ListarMovimentos', nPagina=1,
            nRegPorPagina=50, dDtAltDe='21/11/2026', dDtAltAte='21/11/2026',
            cTpLancamento='CP', lDadosCad='S')
        ids = [m['detalhes']['nCodTitulo'] for m in body['movimentos']]
        self.assertIn(changed, ids)
        self.assertTrue(all(m['detalhes']['dDtAlt'] == '21/11/2026'
            for m in body['movimentos']))
        entries = self.walk('financas/contacorrentelancamentos/',
            'ListarLancCC', 'listaLancamentos', page_key='nPagina',
            size_key='nRegPorPagina', size=200, dtPagInicial='01/10/2026',
            dtPagFinal='31/10/2026')
        self.assertTrue(entries)
        for entry in entries:
            self.assertTrue(entry['cabecalho']['dDtLanc'].endswith('/10/2026'))
        origins = {e['diversos']['cOrigem'] for e in entries}
        self.assertTrue({'BAXP', 'BAXR'} <= origins)

    def test_nf_filters(self):
        cancelled = self.walk('produtos/nfconsultar/', 'ListarNF',
            'nfCadastro', filtrar_por_status='C')
        self.assertTrue(cancelled)
        self.assertTrue(all(nf['ide']['dCan'] for nf in cancelled))
        client = self.data.invoices[0]['nfDestInt']['nCodCli']
        mine = self.walk('produtos/nfconsultar/', 'ListarNF', 'nfCadastro',
            nIdCliente=client)
        self.assertEqual({nf['nfDestInt']['nCodCli'] for nf in mine},
            {client})


# --------------------------------------------------------------------------
class WriteTest(SandboxCase):
    def new_client(self, **extra):
        record = dict({'codigo_cliente_integracao': 'NG-001',
            'razao_social': 'Padaria Pão Quente Ltda',
            'nome_fantasia': 'Pão Quente', 'cnpj_cpf': '11222333000181',
            'email': 'contato@paoquente.com.br', 'cidade': 'São Paulo',
            'estado': 'SP', 'tags': [{'tag': 'Cliente'}]}, **extra)
        return self.post('geral/clientes/', 'IncluirCliente', record)

    def test_include_alter_and_duplicate_clients(self):
        response = self.new_client()
        self.assertEqual(response.status_code, 200, response.text)
        status = response.json()
        self.assertEqual(status['codigo_status'], '0')
        self.assertEqual(status['codigo_cliente_integracao'], 'NG-001')
        omie_id = status['codigo_cliente_omie']
        body = self.ok('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_integracao='NG-001')
        self.assertEqual(body['cnpj_cpf'], '11.222.333/0001-81')
        self.assertEqual(body['cidade'], 'SAO PAULO (SP)')
        self.assertEqual(body['info']['dInc'], '21/11/2026')
        self.clock.advance(3600)
        self.ok('geral/clientes/', 'AlterarCliente',
            codigo_cliente_omie=omie_id, email='novo@paoquente.com.br')
        body = self.ok('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_omie=omie_id)
        self.assertEqual((body['email'], body['info']['hAlt']),
            ('novo@paoquente.com.br', '16:00:00'))
        response = self.new_client(codigo_cliente_integracao='NG-002')
        self.assertEqual(response.status_code, 500)
        self.assertEqual(response.json()['faultstring'],
            'ERROR: Cliente já cadastrado para o CPF/CNPJ [11.222.333/0001-81]'
            ' com o Id [%d] e código de integração [NG-001] ! (add)' % omie_id)
        response = self.new_client(cnpj_cpf='')
        self.assertIn('Código de Integração [NG-001]',
            response.json()['faultstring'])
        response = self.new_client(codigo_cliente_integracao='NG-3',
            cnpj_cpf='', razao_social='')
        self.assertEqual(response.json()['faultcode'], 'SOAP-ENV:Client-102')
        body, _ = self.fault('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_omie=123)
        self.assertEqual(body, {'faultcode': 'SOAP-ENV:Client-105',
            'faultstring':
                'ERROR: Cliente não cadastrado para o Código [123] !'})
        status = self.ok('geral/clientes/', 'UpsertCliente',
            codigo_cliente_integracao='NG-001', nome_fantasia='PQ')
        self.assertEqual(status['codigo_cliente_omie'], omie_id)
        status = self.ok('geral/clientes/', 'UpsertClienteCpfCnpj',
            cnpj_cpf='11.222.333/0001-81', razao_social='Pão Quente S.A.')
        self.assertEqual(status['codigo_cliente_omie'], omie_id)
        body = self.ok('geral/clientes/', 'ListarClientes', pagina=1,
            registros_por_pagina=5, clientesFiltro={'cnpj_cpf':
            '11222333000181'})
        self.assertEqual(body['clientes_cadastro'][0]['razao_social'],
            'Pão Quente S.A.')

    def test_include_category_under_a_group(self):
        status = self.ok('geral/categorias/', 'IncluirCategoria',
            categoria_superior='2.02', descricao='Consultoria Ambiental')
        self.assertEqual(status['codigo_status'], '0')
        code = status['codigo']
        self.assertRegex(code, r'^2\.02\.\d\d$')
        category = self.ok('geral/categorias/', 'ConsultarCategoria',
            codigo=code)
        self.assertEqual((category['descricao'], category['conta_despesa'],
                category['totalizadora'], category['categoria_superior'],
                category['definida_pelo_usuario']),
            ('Consultoria Ambiental', 'S', 'N', '2.02', 'S'))
        listed = self.walk('geral/categorias/', 'ListarCategorias',
            'categoria_cadastro')
        self.assertIn(code, [c['codigo'] for c in listed])
        # a category is no group; a description is required
        body, _ = self.fault('geral/categorias/', 'IncluirCategoria',
            categoria_superior=code, descricao='Outra')
        self.assertIn('Categoria superior', body['faultstring'])
        body, _ = self.fault('geral/categorias/', 'IncluirCategoria',
            categoria_superior='2.02', descricao='')
        self.assertIn('descricao', body['faultstring'])

    def payable(self, **extra):
        supplier = self.a_supplier()
        return dict({'codigo_lancamento_integracao': 'AP-1',
            'codigo_cliente_fornecedor': supplier['codigo_cliente_omie'],
            'data_vencimento': '15/12/2026', 'valor_documento': 1520.35,
            'codigo_categoria': '2.04.01', 'id_conta_corrente':
            self.an_account()}, **extra)

    def test_payable_lifecycle(self):
        status = self.ok('financas/contapagar/', 'IncluirContaPagar',
            **self.payable())
        self.assertEqual((status['codigo_status'], status['descricao_status']),
            ('0', 'Cadastro incluído com sucesso!'))
        omie_id = status['codigo_lancamento_omie']
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=omie_id)
        self.assertEqual((body['status_titulo'], body['data_previsao'],
            body['numero_parcela'], body['info']['cImpAPI']),
            ('A VENCER', '15/12/2026', '001/001', 'S'))
        body, _ = self.fault('financas/contapagar/', 'IncluirContaPagar',
            **self.payable())
        self.assertEqual(body, {'faultcode': 'SOAP-ENV:Client-102',
            'faultstring': 'ERROR: Lançamento já cadastrado para o Código de '
            'Integração [AP-1] !'})
        self.clock.advance(120)
        self.ok('financas/contapagar/', 'AlterarContaPagar',
            codigo_lancamento_integracao='AP-1', valor_documento=1600.0)
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=omie_id)
        self.assertEqual((body['valor_documento'], body['info']['hAlt']),
            (1600.0, '15:02:00'))
        paid = self.ok('financas/contapagar/', 'LancarPagamento',
            codigo_lancamento=omie_id, codigo_conta_corrente=self.an_account(),
            valor=600.0, data='21/11/2026')
        self.assertEqual(set(paid), {'codigo_lancamento',
            'codigo_lancamento_integracao', 'codigo_baixa',
            'codigo_baixa_integracao', 'liquidado', 'valor_baixado',
            'codigo_status', 'descricao_status'})
        self.assertEqual((paid['liquidado'], paid['valor_baixado']),
            ('N', 600.0))
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=omie_id)
        self.assertEqual((body['status_titulo'], body['valor_pag']),
            ('PAGTO_PARCIAL', 600.0))
        paid = self.ok('financas/contapagar/', 'LancarPagamento',
            codigo_lancamento=omie_id, valor=1010.0, juros=10.0)
        self.assertEqual(paid['liquidado'], 'S')
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=omie_id)
        self.assertEqual(body['status_titulo'], 'PAGO')
        movements = self.ok('financas/mf/', 'ListarMovimentos', nPagina=1,
            nRegPorPagina=10, cTpLancamento='BXCP', nCodTitulo=omie_id)
        self.assertEqual(movements['nTotRegistros'], 2)
        self.assertEqual(sorted(m['detalhes']['nJuros'] for m in
            movements['movimentos']), [0.0, 10.0])
        body, _ = self.fault('financas/contapagar/', 'ExcluirContaPagar',
            codigo_lancamento_omie=omie_id)
        self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-102')

    def test_payable_validation_and_not_found(self):
        for missing in ('codigo_lancamento_integracao', 'data_vencimento',
                'valor_documento', 'codigo_cliente_fornecedor'):
            payload = self.payable()
            del payload[missing]
            body, _ = self.fault('financas/contapagar/', 'IncluirContaPagar',
                **payload)
            self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-102')
            self.assertIn(missing, body['faultstring'])
        body, _ = self.fault('financas/contapagar/', 'IncluirContaPagar',
            **self.payable(codigo_cliente_fornecedor=42))
        self.assertIn('[42]', body['faultstring'])
        body, _ = self.fault('financas/contapagar/', 'IncluirContaPagar',
            **self.payable(codigo_categoria='9.99'))
        self.assertIn('Categoria [9.99]', body['faultstring'])
        body, _ = self.fault('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=77)
        self.assertEqual(body, {'faultcode': 'SOAP-ENV:Client-105',
            'faultstring': 'ERROR: Lançamento não cadastrado para o Código '
            '[77] !'})
        status = self.ok('financas/contapagar/', 'UpsertContaPagar',
            **self.payable(codigo_lancamento_integracao='AP-9'))
        again = self.ok('financas/contapagar/', 'UpsertContaPagar',
            **self.payable(codigo_lancamento_integracao='AP-9',
            valor_documento=99.9))
        self.assertEqual(status['codigo_lancamento_omie'],
            again['codigo_lancamento_omie'])
        self.ok('financas/contapagar/', 'ExcluirContaPagar',
            codigo_lancamento_integracao='AP-9')
        body, _ = self.fault('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_integracao='AP-9')
        self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-103')

    def test_receivable_and_recebimento(self):
        client = next(p for p in self.data.parties if p['inativo'] == 'N'
            and {'tag': 'Cliente'} in p['tags'])
        status = self.ok('financas/contareceber/', 'IncluirContaReceber',
            codigo_lancamento_integracao='AR-1',
            codigo_cliente_fornecedor=client['codigo_cliente_omie'],
            data_vencimento='10/11/2026', valor_documento=300.0,
            codigo_categoria='1.01.02', id_conta_corrente=self.an_account())
        omie_id = status['codigo_lancamento_omie']
        body = self.ok('financas/contareceber/', 'ConsultarContaReceber',
            codigo_lancamento_omie=omie_id)
        self.assertEqual(body['status_titulo'], 'ATRASADO')
        received = self.ok('financas/contareceber/', 'LancarRecebimento',
            codigo_lancamento=omie_id, valor=290.0, desconto=10.0,
            codigo_baixa_integracao='BX-1')
        self.assertEqual(received['liquidado'], 'S')
        body = self.ok('financas/contareceber/', 'ConsultarContaReceber',
            codigo_lancamento_omie=omie_id)
        self.assertEqual(body['status_titulo'], 'LIQUIDADO')
        body, _ = self.fault('financas/contareceber/', 'LancarRecebimento',
            codigo_lancamento=omie_id, valor=1.0)
        self.assertIn('liquidado', body['faultstring'])


# --------------------------------------------------------------------------
class RulesTest(SandboxCase):
    settings = {}

    def test_redundant_calls(self):
        self.ok('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_omie=self.data.parties[0]['codigo_cliente_omie'])
        self.clock.advance(15)
        body, response = self.fault('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_omie=self.data.parties[0]['codigo_cliente_omie'])
        self.assertEqual(body, {'faultcode': 'SOAP-ENV:Client-6',
            'faultstring': 'ERROR: Consumo redundante detectado. Aguarde 45 '
            'segundos para tentar novamente (REDUNDANT).'})
        self.assertTrue(response.headers['OmieAPI-Error'].startswith('6 - '))
        self.ok('geral/clientes/', 'ConsultarCliente',       # other params
            codigo_cliente_omie=self.data.parties[1]['codigo_cliente_omie'])
        self.clock.advance(46)
        self.ok('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_omie=self.data.parties[0]['codigo_cliente_omie'])
        self.sandbox.configure(redundant_window=0)
        self.ok('geral/clientes/', 'ConsultarCliente',
            codigo_cliente_omie=self.data.parties[0]['codigo_cliente_omie'])

    def test_per_method_and_global_rate_limits(self):
        self.sandbox.configure(redundant_window=0, method_rate_per_minute=5,
            rate_per_minute=8)
        for _ in range(5):
            self.ok('geral/empresas/', 'ListarEmpresas')
        response = self.post('geral/empresas/', 'ListarEmpresas')
        self.assertEqual(response.status_code, 429)
        self.assertIn('Too many requests', response.text)
        self.ok('geral/categorias/', 'ListarCategorias')     # other method
        self.clock.advance(61)
        self.ok('geral/empresas/', 'ListarEmpresas')
        for _ in range(7):
            self.post('geral/categorias/', 'ListarCategorias')
        response = self.post('geral/contacorrente/', 'ListarContasCorrentes')
        self.assertEqual(response.status_code, 429)     # 960/min rule
        self.sandbox.configure(limits_enabled=False)
        self.ok('geral/contacorrente/', 'ListarContasCorrentes')

    def test_four_concurrent_requests_per_method(self):
        self.sandbox.configure(redundant_window=0, latency=1.0)
        self.sleep.gate = threading.Event()
        results = []

        def call():
            results.append(self.post('geral/empresas/',
                'ListarEmpresas').status_code)
        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for _ in range(4):      # all four are inside the sandbox, held
            self.assertTrue(self.sleep.entered.acquire(timeout=10))
        with requests.Session() as other:
            response = other.post(self.server.url + '/api/v1/geral/empresas/',
                json={'call': 'ListarEmpresas', 'app_key':
                self.sandbox.app_key, 'app_secret': self.sandbox.app_secret,
                'param': [{}]})
        self.assertEqual(response.status_code, 500)
        self.assertEqual(response.json(), {
            'faultcode': 'SOAP-ENV:Client-1880',
            'faultstring': 'ERROR: Já existe uma requisição desse método '
            'sendo executada e você pode tentar novamente em alguns '
            'instantes. (1)'})
        self.sleep.gate.set()
        for thread in threads:
            thread.join(10)
        self.assertEqual(results, [200] * 4)
        self.ok('geral/empresas/', 'ListarEmpresas')

    def test_misuse_block_after_ten_consecutive_errors(self):
        for _ in range(10):
            body, _ = self.fault('geral/clientes/', 'ListarClientes',
                pagina=1, wrong_tag=1)
            self.assertEqual(body['faultcode'], 'SOAP-ENV:Client-5001')
        body, response = self.fault('geral/clientes/', 'ListarClientes',
            status=425, pagina=1, registros_por_pagina=5)
        self.assertEqual(body, {'faultcode': 'MISUSE_API_PROCESS',
            'faultstring': 'ERROR: API bloqueada por consumo indevido. Tente '
            'novamente em 1800 segundos.'})
        self.ok('geral/empresas/', 'ListarEmpresas')          # other method
        self.clock.advance(1000)
        self.fault('geral/clientes/', 'ListarClientes', status=425, pagina=1)
        self.clock.advance(1000)     # the retry above restarted the block
        self.fault('geral/clientes/', 'ListarClientes', status=425, pagina=1)
        self.clock.advance(1801)
        self.ok('geral/clientes/', 'ListarClientes', pagina=1,
            registros_por_pagina=5)

    def test_success_resets_the_error_count(self):
        for _ in range(9):
            self.fault('geral/clientes/', 'ListarClientes', wrong_tag=1)
        self.ok('geral/clientes/', 'ListarClientes', pagina=2,
            registros_por_pagina=5)
        for _ in range(9):
            self.fault('geral/clientes/', 'ListarClientes', wrong_tag=1)
        self.fault('geral/clientes/', 'ListarClientes', wrong_tag=2)
        self.fault('geral/clientes/', 'ListarClientes', status=425)


# --------------------------------------------------------------------------
class FaultInjectionTest(SandboxCase):
    def test_fail_next_html_broken_and_custom(self):
        response = self.admin('settings', {'fail_next': ['html', 'broken',
            {'faultcode': 'SOAP-ENV:Client-8020', 'faultstring':
                'ERROR: Falha temporária.', 'call': 'ListarClientes'}]})
        self.assertEqual(response.status_code, 200)
        response = self.post('geral/empresas/', 'ListarEmpresas')
        self.assertEqual(response.status_code, 500)
        self.assertTrue(response.headers['Content-Type'].startswith(
            'text/html'))
        self.assertIn('<html>', response.text)
        response = self.post('geral/empresas/', 'ListarEmpresas')
        self.assertEqual((response.status_code, response.text),
            (500, 'Broken response from Application Server'))
        self.ok('geral/empresas/', 'ListarEmpresas')     # spec waits its call
        response = self.post('geral/clientes/', 'ListarClientes')
        self.assertEqual(response.json()['faultcode'], 'SOAP-ENV:Client-8020')
        self.assertEqual(response.headers['OmieAPI-Error'],
            '8020 - Falha temporária.')
        self.ok('geral/clientes/', 'ListarClientes')
        stats = self.admin('stats').json()
        self.assertEqual(stats['injected'], {'html': 1, 'broken': 1,
            'fault': 1})

    def test_rates_latency_and_timeout(self):
        self.sandbox.configure(error_rate=1.0)
        response = self.post('geral/empresas/', 'ListarEmpresas')
        self.assertEqual(response.status_code, 500)
        self.sandbox.configure(error_rate=0.0, html_error_rate=1.0)
        self.assertIn('<html>', self.post('geral/empresas/',
            'ListarEmpresas').text)
        self.sandbox.configure(html_error_rate=0.0, timeout_rate=1.0,
            timeout_seconds=75)
        response = self.post('geral/empresas/', 'ListarEmpresas')
        self.assertEqual(response.status_code, 504)
        self.assertIn(75, self.sleep.calls)
        self.sandbox.configure(timeout_rate=0.0, latency=0.25)
        self.ok('geral/empresas/', 'ListarEmpresas')
        self.assertEqual(self.sleep.calls[-1], 0.25)


# --------------------------------------------------------------------------
class Receiver:
    "A tiny webhook endpoint: records JSON bodies, answers a set status"

    def __init__(self):
        self.bodies = []
        self.status = 200
        self.server = make_server('127.0.0.1', 0, self.app, threaded=True)
        self.url = 'http://127.0.0.1:%d/omie?token=abc' % (
            self.server.socket.getsockname()[1])
        self.thread = threading.Thread(target=self.server.serve_forever,
            kwargs={'poll_interval': 0.02}, daemon=True)
        self.thread.start()

    def app(self, environ, start_response):
        request = Request(environ)
        self.bodies.append(json.loads(request.get_data(as_text=True)))
        return Response('pong', status=self.status)(environ, start_response)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WebhookTest(SandboxCase):
    def setUp(self):
        super().setUp()
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)
        response = self.admin('webhook', {'url': self.receiver.url})
        self.assertEqual(response.json()['url'], self.receiver.url)

    def delivered(self):
        self.assertTrue(self.sandbox.webhooks.flush(10))
        return self.receiver.bodies

    def test_api_writes_emit_omie_connect_messages(self):
        supplier = self.a_supplier()
        status = self.ok('financas/contapagar/', 'IncluirContaPagar',
            codigo_lancamento_integracao='AP-W', codigo_cliente_fornecedor=
            supplier['codigo_cliente_omie'], data_vencimento='31/05/2027',
            valor_documento=100.0, codigo_categoria='2.02.02',
            id_conta_corrente=self.an_account())
        omie_id = status['codigo_lancamento_omie']
        self.ok('financas/contapagar/', 'LancarPagamento',
            codigo_lancamento=omie_id, valor=100.0)
        self.ok('financas/contareceber/', 'AlterarContaReceber',
            codigo_lancamento_omie=self.data.receivables[0][
                'codigo_lancamento_omie'], observacao='ok')
        bodies = self.delivered()
        self.assertEqual([b['topic'] for b in bodies], [
            'Financas.ContaPagar.Incluido',
            'Financas.ContaPagar.BaixaRealizada',
            'Financas.ContaReceber.Alterado'])
        first = bodies[0]
        self.assertEqual(set(first), {'messageId', 'topic', 'event',
            'author', 'appKey', 'appHash', 'origin'})
        self.assertEqual(len(first['messageId']), 36)
        self.assertEqual(first['appKey'], self.sandbox.app_key)
        self.assertRegex(first['appHash'], r'^[a-z]+-[0-9a-f]{8}$')
        self.assertEqual(first['origin'], 'omie-connect-2.0')
        self.assertEqual(set(first['author']), {'email', 'name', 'userId'})
        self.assertEqual(first['event']['data_vencimento'],
            '2027-05-31T00:00:00-03:00')
        self.assertEqual(first['event']['situacao'], 'A vencer')
        self.assertEqual(first['event']['codigo_lancamento_omie'], omie_id)
        baixa = bodies[1]['event']
        self.assertIsInstance(baixa, list)
        self.assertEqual(baixa[0]['conta_a_pagar'][0][
            'codigo_lancamento_omie'], omie_id)
        self.assertEqual(baixa[0]['valor'], 100.0)
        for key in ('codigo_baixa', 'codigo_conta_corrente', 'data',
                'desconto', 'juros', 'multa'):
            self.assertIn(key, baixa[0])

    def test_screen_changes_deletes_and_ping(self):
        party = self.data.parties[5]
        record = self.sandbox.change('party', party['codigo_cliente_omie'],
            email='mudou@exemplo.com.br')
        self.assertEqual(record['info']['dAlt'], '21/11/2026')
        response = self.admin('change', {'entity': 'category',
            'id': '2.02.05', 'changes': {'descricao': 'Papelaria'}})
        self.assertEqual(response.json()['record']['descricao'], 'Papelaria')
        status = self.ok('financas/contapagar/', 'IncluirContaPagar',
            codigo_lancamento_integracao='AP-D', codigo_cliente_fornecedor=
            self.a_supplier()['codigo_cliente_omie'],
            data_vencimento='31/05/2027', valor_documento=10.0,
            id_conta_corrente=self.an_account())
        self.ok('financas/contapagar/', 'ExcluirContaPagar',
            codigo_lancamento_omie=status['codigo_lancamento_omie'])
        bodies = self.delivered()
        self.assertEqual([b['topic'] for b in bodies], [
            'ClienteFornecedor.Alterado', 'Categoria.Alterada',
            'Financas.ContaPagar.Incluido', 'Financas.ContaPagar.Excluido'])
        self.assertEqual(bodies[0]['event']['email'], 'mudou@exemplo.com.br')
        self.assertNotEqual(bodies[0]['author']['userId'], 89)
        self.assertEqual(bodies[3]['event'], {
            'codigo_lancamento_omie': status['codigo_lancamento_omie']})
        response = self.admin('ping', {})
        self.assertEqual(response.json(), {'ok': True, 'status': 200})
        self.assertEqual(self.receiver.bodies[-1], {'ping': 'omie'})

    def test_bank_entries_and_cancelled_settlements(self):
        account = self.an_account()
        status = self.ok('financas/contacorrentelancamentos/',
            'IncluirLancCC', cCodIntLanc='TAR-1', cabecalho={
                'nCodCC': account, 'dDtLanc': '20/11/2026',
                'nValorLanc': 42.5}, detalhes={'cCodCateg': '2.05.01',
                'cObs': 'Tarifa DOC'})
        self.assertEqual(status['cCodStatus'], '0')
        entry = self.ok('financas/contacorrentelancamentos/', 'ConsultaLancCC',
            cCodIntLanc='TAR-1')
        self.assertEqual((entry['diversos']['cNatureza'],
            entry['cabecalho']['nValorLanc']), ('P', 42.5))
        statement = self.ok('financas/extrato/', 'ListarExtrato',
            nCodCC=account, dPeriodoInicial='20/11/2026',
            dPeriodoFinal='20/11/2026')
        rows = [r for r in statement['listaMovimentos']
            if r.get('nCodLancamento') == status['nCodLanc']]
        self.assertEqual(rows[0]['nValorDocumento'], -42.5)
        payable = next(p for p in self.data.payables if p['valor_pag'] and
            p['status_titulo'] == 'PAGO')
        baixas = self.ok('financas/mf/', 'ListarMovimentos', nPagina=1,
            nRegPorPagina=10, cTpLancamento='BXCP',
            nCodTitulo=payable['codigo_lancamento_omie'])['movimentos']
        self.ok('financas/contapagar/', 'CancelarPagamento',
            codigo_baixa=baixas[0]['detalhes']['nCodBaixa'])
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=payable['codigo_lancamento_omie'])
        self.assertNotEqual(body['status_titulo'], 'PAGO')
        bodies = self.delivered()
        self.assertEqual([b['topic'] for b in bodies], [
            'Financas.ContaCorrente.Lancamento.Incluido',
            'Financas.ContaPagar.BaixaCancelada'])
        self.assertIsInstance(bodies[1]['event'], list)
        self.assertEqual(bodies[1]['event'][0]['codigo_baixa'],
            baixas[0]['detalhes']['nCodBaixa'])

    def test_nf_events_carry_what_omie_connect_sends(self):
        nf = next(n for n in self.data.invoices if not n['ide']['dCan'])
        self.sandbox.change('invoice', nf['compl']['nIdNF'], cancelar=True)
        body, = self.delivered()
        self.assertEqual(body['topic'], 'NFe.NotaCancelada')
        event = body['event']
        self.assertEqual(set(event), {'id_nf', 'id_pedido', 'numero_nf',
            'nfe_chave', 'data_emis', 'hora_emis', 'empresa_cnpj',
            'nfe_xml', 'nfe_danfe', 'acao'})
        self.assertEqual(event['id_nf'], nf['compl']['nIdNF'])
        self.assertEqual(event['nfe_chave'], nf['compl']['cChaveNFe'])
        self.assertEqual(len(event['nfe_chave']), 44)
        self.assertEqual(event['numero_nf'], nf['ide']['nNF'])
        self.assertRegex(event['data_emis'],
            r'^\d{4}-\d\d-\d\dT00:00:00-03:00$')
        self.assertEqual(event['empresa_cnpj'], self.data.company['cnpj'])
        self.assertTrue(event['nfe_xml'].startswith('https://'))

    def test_retries_then_dead_letter(self):
        self.receiver.status = 503
        self.sandbox.configure(webhook_attempts=3, webhook_retry_delay=4)
        self.sandbox.change('party', self.data.parties[0][
            'codigo_cliente_omie'], contato='Fulano')
        bodies = self.delivered()
        self.assertEqual(len(bodies), 3)
        self.assertEqual(self.sleep.calls, [4, 4])
        stats = self.admin('stats').json()['webhooks']
        self.assertEqual((stats['dead_letters'], stats['sent']), (1, 0))
        self.assertEqual(stats['dead_letter_messages'][0]['status'], 503)
        self.receiver.status = 200
        self.sandbox.configure(webhook_sync=True)
        self.sandbox.change('party', self.data.parties[0][
            'codigo_cliente_omie'], contato='Beltrano')
        self.assertEqual(len(self.receiver.bodies), 4)   # no flush needed


# --------------------------------------------------------------------------
class AdminTest(SandboxCase):
    def test_stats_settings_and_reset(self):
        self.ok('geral/empresas/', 'ListarEmpresas')
        self.post('geral/empresas/', 'ListarEmpresas', app_key='1')
        stats = self.admin('stats').json()
        self.assertEqual(stats['calls']['geral/empresas/ ListarEmpresas'], 2)
        self.assertEqual(stats['faults'], {'SOAP-ENV:Server': 1})
        self.assertEqual(self.sandbox.stats[('geral/empresas/',
            'ListarEmpresas')], 2)
        self.admin('reset-stats', {})
        self.assertEqual(self.admin('stats').json()['total'], 0)
        response = self.admin('settings', {'no_such_setting': 1})
        self.assertEqual(response.status_code, 400)
        settings = self.admin('settings', {'redundant_window': 30}).json()
        self.assertEqual(settings['redundant_window'], 30.0)
        self.assertEqual(self.sandbox.settings.redundant_window, 30.0)
        payable = next(p for p in self.data.payables
            if p['status_titulo'] == 'A VENCER')
        record = self.sandbox.change('payable',
            payable['codigo_lancamento_omie'], status_titulo='CANCELADO')
        self.assertEqual(record['status_titulo'], 'CANCELADO')
        self.assertEqual(payable['status_titulo'], 'A VENCER')  # untouched
        self.admin('reset', {})
        body = self.ok('financas/contapagar/', 'ConsultarContaPagar',
            codigo_lancamento_omie=payable['codigo_lancamento_omie'])
        self.assertEqual(body['status_titulo'], 'A VENCER')


if __name__ == '__main__':
    unittest.main()
