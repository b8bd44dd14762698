"""Tests of the Omie client over real HTTP on 127.0.0.1.

A tiny scripted Omie (werkzeug) answers exactly what each test needs, so
every fault shape is exercised through the real requests/urllib3 stack;
the sandbox (a realistic Omie) covers whole datasets.  Time is fake: the
client's sleep/clock are injected, nothing really waits.
"""
import datetime as dt
import json
import logging
import socket
import threading
import time
import unittest
from unittest.mock import patch
from types import SimpleNamespace

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from novagestao_omie.omie import OmieClient, errors, records
from novagestao_omie.omie import client_metrics
from novagestao_omie.omie.client_metrics import percentile
from novagestao_omie.omie.endpoints import ENDPOINTS, endpoint_for
from novagestao_omie.omie.limits import (
    CircuitBreaker, MemoryGuardStore, RateLimiter, ReadCache)

APP_KEY = '1234567890123'
SECRET = 'S3CR3T-zebra-9f8e7d6c5b4a3210'
logging.getLogger('werkzeug').setLevel(logging.ERROR)

NO_RECORDS = (500, {'faultstring': 'ERROR: Não existem registros para a '
        'página [{page}]!', 'faultcode': 'SOAP-ENV:Client-5113'}, {})
HTML_500 = (500, '<html><body><h1>500 Internal Server Error</h1></body>'
    '</html>', {'Content-Type': 'text/html'})


class FakeTime:
    "Injected clock + sleep: sleeping records the wait and moves the clock"

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class MaxJitter:
    "Full jitter drawing its upper bound, so backoff waits are exact"

    def uniform(self, low, high):
        return high


class FakeOmie:
    """A scripted Omie: answers from `script` (a list of responses) then
    from `handler`; a response is (status, body, headers) or a callable
    taking the parsed request body and returning one."""

    def __init__(self):
        self.generation = 0
        self.reset()

    def reset(self):
        # A request of a previous test may still be sleeping in `delay`:
        # the generation keeps it from eating this test's script.
        self.generation += 1
        self.requests = []
        self.script = []
        self.handler = lambda body: (200, {'ok': True}, {})
        self.delay = 0

    def __call__(self, environ, start_response):
        generation = self.generation
        request = Request(environ)
        raw = request.get_data()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.requests.append(SimpleNamespace(path=request.path,
                method=request.method, headers=dict(request.headers),
                body=body, raw=raw))
        if self.delay:
            time.sleep(self.delay)
        if generation != self.generation:
            return Response('stale', status=503)(environ, start_response)
        answer = self.script.pop(0) if self.script else self.handler
        if callable(answer):
            answer = answer(body)
        status, payload, headers = answer
        headers = dict(headers)
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
            headers.setdefault('Content-Type', 'application/json')
        headers.setdefault('Content-Type', 'text/plain')
        response = Response(payload, status=status, headers=headers)
        return response(environ, start_response)


def paged(records, list_key, dialect='snake'):
    "Handler serving `records` in pages the way Omie does"
    page_key, size_key, total_key = {
        'snake': ('pagina', 'registros_por_pagina', 'total_de_paginas'),
        'hungarian': ('nPagina', 'nRegPorPagina', 'nTotPaginas'),
        }[dialect]

    def handler(body):
        param = body['param'][0]
        page, size = param[page_key], param[size_key]
        total_pages = max(1, -(-len(records) // size))
        chunk = records[(page - 1) * size:page * size]
        if not chunk:
            status, fault, headers = NO_RECORDS
            fault = dict(fault,
                faultstring=fault['faultstring'].format(page=page))
            return status, fault, headers
        return 200, {page_key: page, total_key: total_pages,
            list_key: chunk}, {}
    return handler


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class OmieTestCase(unittest.TestCase):
    "Starts one scripted Omie per class; each test gets a fresh script"

    @classmethod
    def setUpClass(cls):
        cls.omie = FakeOmie()
        cls.server = make_server('127.0.0.1', 0, cls.omie, threaded=True)
        cls.url = f'http://127.0.0.1:{cls.server.server_port}'
        cls.thread = threading.Thread(target=cls.server.serve_forever,
            kwargs={'poll_interval': 0.05}, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.omie.reset()
        self.time = FakeTime()

    def client(self, app_key=APP_KEY, app_secret=SECRET, **kwargs):
        options = dict(base_url=self.url, sleep=self.time.sleep,
            clock=self.time.clock, rng=MaxJitter(), cache_ttl=0, timeout=5)
        options.update(kwargs)
        client = OmieClient(app_key, app_secret, **options)
        self.addCleanup(client.close)
        return client

    def fault(self, faultcode, faultstring, status=500, headers=None):
        return (status, {'faultstring': faultstring, 'faultcode': faultcode},
            headers or {})


class EnvelopeTest(OmieTestCase):

    def test_envelope_shape_path_and_headers(self):
        self.omie.handler = lambda body: (200, {'pagina': 1,
                'total_de_paginas': 1, 'empresas_cadastro': [{'x': 1}]}, {})
        answer = self.client().call('ListarEmpresas', pagina=1,
            registros_por_pagina=1)

        self.assertEqual(answer['empresas_cadastro'], [{'x': 1}])
        request, = self.omie.requests
        self.assertEqual(request.method, 'POST')
        self.assertEqual(request.path, '/api/v1/geral/empresas/')
        self.assertEqual(request.headers['Content-Type'], 'application/json')
        self.assertEqual(request.body, {'call': 'ListarEmpresas',
                'app_key': APP_KEY, 'app_secret': SECRET,
                'param': [{'pagina': 1, 'registros_por_pagina': 1}]})

    def test_base_url_with_or_without_slash_or_api_prefix(self):
        for base in (self.url, self.url + '/', self.url + '/api/v1/'):
            with self.subTest(base=base):
                self.omie.reset()
                self.client(base_url=base).call('ConsultarCliente',
                    codigo_cliente_omie=1)
                self.assertEqual(self.omie.requests[0].path,
                    '/api/v1/geral/clientes/')

    def test_credentials_are_stripped(self):
        client = self.client(app_key=f'  {APP_KEY}\n',
            app_secret=f'\t{SECRET} \u200b')
        client.call('ConsultarCliente', codigo_cliente_omie=1)
        body = self.omie.requests[0].body
        self.assertEqual(body['app_key'], APP_KEY)
        self.assertEqual(body['app_secret'], SECRET)

    def test_empty_credentials_fail_without_calling(self):
        with self.assertRaises(errors.AuthenticationError):
            self.client(app_secret='   ').call('ListarEmpresas')
        self.assertEqual(self.omie.requests, [])

    def test_explicit_path_overrides_the_table(self):
        self.client().call('ListarMovimentos', path='/estoque/movestoque',
            nPagina=1)
        self.assertEqual(self.omie.requests[0].path,
            '/api/v1/estoque/movestoque/')

    def test_unknown_call_needs_a_path(self):
        with self.assertRaises(ValueError):
            self.client().call('ListarCoisas')

    def test_dates_and_decimals_are_sent_in_omie_format(self):
        from decimal import Decimal
        self.client().call('IncluirContaPagar',
            data_vencimento=dt.date(2026, 7, 5), valor_documento=Decimal(
                '1520.35'))
        param = self.omie.requests[0].body['param'][0]
        self.assertEqual(param, {'data_vencimento': '05/07/2026',
                'valor_documento': 1520.35})

    def test_endpoint_table(self):
        expected = {
            'ListarEmpresas': ('geral/empresas/', 'empresas_cadastro',
                'snake', 'read'),
            'ListarClientes': ('geral/clientes/', 'clientes_cadastro',
                'snake', 'read'),
            'UpsertClienteCpfCnpj': ('geral/clientes/', None, 'none',
                'write'),
            'ListarCategorias': ('geral/categorias/', 'categoria_cadastro',
                'snake', 'read'),
            'ListarContasCorrentes': ('geral/contacorrente/',
                'ListarContasCorrentes', 'snake', 'read'),
            'LancarPagamento': ('financas/contapagar/', None, 'none',
                'write'),
            'CancelarRecebimento': ('financas/contareceber/', None, 'none',
                'write'),
            'ListarContasReceber': ('financas/contareceber/',
                'conta_receber_cadastro', 'snake', 'read'),
            'ListarExtrato': ('financas/extrato/', 'listaMovimentos', 'none',
                'read'),
            'ListarMovimentos': ('financas/mf/', 'movimentos', 'hungarian',
                'read'),
            'ListarLancCC': ('financas/contacorrentelancamentos/',
                'listaLancamentos', 'hungarian', 'read'),
            'ListarNF': ('produtos/nfconsultar/', 'nfCadastro', 'snake',
                'read'),
            }
        for call, (path, key, dialect, kind) in expected.items():
            with self.subTest(call=call):
                endpoint = ENDPOINTS[call]
                self.assertEqual((endpoint.path, endpoint.list_key,
                        endpoint.dialect, endpoint.kind),
                    (path, key, dialect, kind))
        self.assertEqual(endpoint_for('ListarFoo', 'x/y').kind, 'read')
        self.assertEqual(endpoint_for('GravarFoo', 'x/y').kind, 'write')


class PaginationTest(OmieTestCase):

    def test_snake_dialect_lists_every_record(self):
        records = [{'codigo_cliente_omie': n} for n in range(1, 8)]
        self.omie.handler = paged(records, 'clientes_cadastro')
        client = self.client()

        listed = list(client.iterate('ListarClientes', page_size=3,
                apenas_importado_api='N'))

        self.assertEqual(listed, records)
        params = [r.body['param'][0] for r in self.omie.requests]
        self.assertEqual([p['pagina'] for p in params], [1, 2, 3])
        self.assertTrue(all(p['registros_por_pagina'] == 3
                and p['apenas_importado_api'] == 'N' for p in params))
        self.assertEqual(client.calls, 3)

    def test_hungarian_dialect_lists_every_record(self):
        records = [{'detalhes': {'nCodTitulo': n}} for n in range(1, 6)]
        self.omie.handler = paged(records, 'movimentos', 'hungarian')

        listed = list(self.client().iterate('ListarMovimentos', page_size=2))

        self.assertEqual(listed, records)
        params = [r.body['param'][0] for r in self.omie.requests]
        self.assertEqual(params, [{'nPagina': n, 'nRegPorPagina': 2}
                for n in (1, 2, 3)])
        self.assertEqual(self.omie.requests[0].path, '/api/v1/financas/mf/')

    def test_default_page_size_is_500(self):
        self.omie.handler = paged([{'n': 1}], 'conta_pagar_cadastro')
        list(self.client().iterate('ListarContasPagar'))
        self.assertEqual(
            self.omie.requests[0].body['param'][0]['registros_por_pagina'],
            500)

    def test_pages_are_fetched_lazily(self):
        records = [{'n': n} for n in range(10)]
        self.omie.handler = paged(records, 'clientes_cadastro')
        pages = self.client().iterate_pages('ListarClientes', page_size=4)

        self.assertEqual(self.omie.requests, [])
        number, total, first = next(pages)
        self.assertEqual((number, total, first), (1, 3, records[:4]))
        self.assertEqual(len(self.omie.requests), 1)
        self.assertEqual([p.number for p in pages], [2, 3])

    def test_5113_past_the_end_stops_iteration(self):
        # Omie announces more pages than it has: the fault ends the data.
        records = [{'n': n} for n in range(4)]
        inner = paged(records, 'clientes_cadastro')

        def handler(body):
            status, payload, headers = inner(body)
            if status == 200:
                payload['total_de_paginas'] = 9
            return status, payload, headers
        self.omie.handler = handler

        listed = list(self.client().iterate('ListarClientes', page_size=2))

        self.assertEqual(listed, records)
        self.assertEqual(len(self.omie.requests), 3)

    def test_no_records_variants_mean_empty(self):
        variants = [
            NO_RECORDS[:2] + ({},),
            self.fault('SOAP-ENV:Client-5113',
                'ERROR: Não existem registros para a página informada!', 200),
            self.fault('SOAP-ENV:Client-500',
                'ERROR: Nao existem registros para a pagina [1]!', 500),
            ]
        for variant in variants:
            with self.subTest(variant=variant):
                self.omie.reset()
                self.omie.handler = lambda body: variant
                client = self.client()
                self.assertEqual(list(client.iterate('ListarContasPagar')),
                    [])
                answer = client.call('ListarContasPagar', pagina=1,
                    registros_por_pagina=50)
                self.assertEqual(answer['conta_pagar_cadastro'], [])
                self.assertEqual(client.circuit_state('ListarContasPagar'),
                    'closed')

    def test_resume_from_a_given_page(self):
        records = [{'n': n} for n in range(6)]
        self.omie.handler = paged(records, 'clientes_cadastro')
        pages = list(self.client().iterate_pages('ListarClientes',
                page_size=2, pagina=2))
        self.assertEqual([p.number for p in pages], [2, 3])

    def test_unpaged_statement(self):
        movements = [{'nCodLancamento': 1}, {'nCodLancamento': 2}]
        self.omie.handler = lambda body: (200, {'nCodCC': 9,
                'listaMovimentos': movements}, {})
        client = self.client()
        self.assertEqual(list(client.iterate('ListarExtrato', nCodCC=9,
                    dPeriodoInicial='01/01/2026',
                    dPeriodoFinal='31/01/2026')), movements)
        self.assertNotIn('pagina', self.omie.requests[0].body['param'][0])

        self.omie.handler = lambda body: NO_RECORDS
        statement = client.get_statement(9, dt.date(2026, 1, 1),
            dt.date(2026, 1, 31))
        self.assertEqual(statement['listaMovimentos'], [])
        self.assertEqual(self.omie.requests[-1].body['param'][0],
            {'nCodCC': 9, 'dPeriodoInicial': '01/01/2026',
                'dPeriodoFinal': '31/01/2026'})

    def test_unknown_list_key_is_detected(self):
        self.omie.handler = lambda body: (200, {'nPagina': 1,
                'nTotPaginas': 1, 'cadastros': [{'a': 1}]}, {})
        listed = list(self.client().iterate('ListarMovimentos',
                path='estoque/movestoque/', nPagina=1, nRegPorPagina=10))
        self.assertEqual(listed, [{'a': 1}])

    def test_test_connection_returns_first_company(self):
        self.omie.handler = lambda body: (200, {'pagina': 1,
                'total_de_paginas': 1, 'empresas_cadastro': [
                    {'codigo_empresa': 1, 'razao_social': 'X'}]}, {})
        self.assertEqual(self.client().test_connection()['codigo_empresa'], 1)
        self.assertEqual(self.omie.requests[0].body['param'],
            [{'pagina': 1, 'registros_por_pagina': 1}])


class ErrorClassificationTest(OmieTestCase):
    "Each Omie answer shape becomes the right typed error (no retries)"

    def assertRaisesKind(self, answer, cls, kind, transient,
            retry_after='any', call='ConsultarCliente', **client_options):
        self.omie.reset()
        self.omie.handler = lambda body: answer
        client = self.client(max_retries=0, **client_options)
        with self.assertRaises(errors.OmieError) as raised:
            client.call(call, codigo_cliente_omie=1)
        error = raised.exception
        self.assertIs(type(error), cls, error)
        self.assertEqual((error.kind, error.transient), (kind, transient))
        if retry_after != 'any':
            self.assertEqual(error.retry_after, retry_after)
        self.assertIn(call, str(error))
        return error

    def test_authentication(self):
        error = self.assertRaisesKind(self.fault('SOAP-ENV:Server',
                'A chave de acesso não está preenchida ou não é válida.'),
            errors.AuthenticationError, 'authentication', False)
        self.assertEqual(error.faultcode, 'SOAP-ENV:Server')
        self.assertEqual(error.status, 500)
        for status in (401, 403):
            self.assertRaisesKind((status, '', {}),
                errors.AuthenticationError, 'authentication', False)

    def test_redundant_with_wait(self):
        self.assertRaisesKind(self.fault('SOAP-ENV:Client-6',
                'ERROR: Consumo redundante detectado. Aguarde 58 segundos '
                'para tentar novamente (REDUNDANT).'),
            errors.RedundantRequestError, 'rate_limit', True, 58)
        # Only the header says it.
        self.assertRaisesKind((500, '', {'OmieAPI-Error':
                    '6 - Consumo redundante detectado. Aguarde 12 segundos'}),
            errors.RedundantRequestError, 'rate_limit', True, 12)

    def test_concurrency(self):
        self.assertRaisesKind(self.fault('SOAP-ENV:Client-1880',
                'ERROR: Já existe uma requisição desse método sendo executada '
                'e você pode tentar novamente em alguns instantes. (1)'),
            errors.ConcurrencyError, 'rate_limit', True, None)
        # 14:00:00 in Brasília; Omie says "try again at 14:00:07".
        now = dt.datetime(2026, 11, 21, 17, 0, 0, tzinfo=dt.timezone.utc)
        self.assertRaisesKind(self.fault('SOAP-ENV:Client-1100',
                'ERROR: Esta requisição já foi processada ou está sendo '
                'processada e você pode tentar novamente às 14:00:07. (1)'),
            errors.ConcurrencyError, 'rate_limit', True, 7, now=lambda: now)

    def test_misuse_block(self):
        self.assertRaisesKind((425, {'faultstring': 'ERROR: API bloqueada '
                    'por consumo indevido. Tente novamente em 1740 segundos.',
                    'faultcode': 'MISUSE_API_PROCESS'}, {}),
            errors.MisuseBlockedError, 'rate_limit', True, 1740)
        self.assertRaisesKind((425, '', {}), errors.MisuseBlockedError,
            'rate_limit', True, 1800)

    def test_rate_limit(self):
        self.assertRaisesKind((429, 'Too many Requests', {'Retry-After': '7'}),
            errors.RateLimitError, 'rate_limit', True, 7)
        self.assertRaisesKind((429, '', {}), errors.RateLimitError,
            'rate_limit', True, 60)

    def test_not_found(self):
        for code, text in (('SOAP-ENV:Client-105',
                    'ERROR: Cliente não cadastrado para o Código [1] !'),
                ('SOAP-ENV:Client-101',
                    'ERROR: Nenhuma conta corrente foi encontrada!'),
                ('SOAP-ENV:Client-103', 'ERROR: OS não cadastrada para o '
                    'Código de Integração [X] !'),
                ('SOAP-ENV:Client-105', 'ERROR: Registro inexistente [9]')):
            with self.subTest(code=code):
                self.assertRaisesKind(self.fault(code, text),
                    errors.NotFoundError, 'not_found', False)

    def test_validation_and_duplicates(self):
        self.assertRaisesKind(self.fault('SOAP-ENV:Client-5001',
                'ERROR: Tag [CNPJ_CPF] não faz parte da estrutura do tipo '
                'complexo [clientes_cadastro_chave]!'),
            errors.ValidationError, 'validation', False)
        self.assertRaisesKind(self.fault('SOAP-ENV:Client-1020',
                'ERROR: A tag [x] somente deve ser informada quando y'),
            errors.ValidationError, 'validation', False)
        error = self.assertRaisesKind(self.fault('SOAP-ENV:Client-102',
                'ERROR: Cliente já cadastrado para o CPF/CNPJ [1] com o Id '
                '[5001234567] e código de integração [C1] ! (add)'),
            errors.DuplicateError, 'validation', False,
            call='IncluirCliente')
        self.assertEqual(error.existing_id, 5001234567)
        self.assertIsInstance(error, errors.ValidationError)
        # A 200 answer whose *_status reports an error.
        self.assertRaisesKind((200, {'codigo_status': '1',
                    'descricao_status': 'Data de vencimento inválida'}, {}),
            errors.ValidationError, 'validation', False,
            call='UpsertCliente')

    def test_fault_in_a_200_answer(self):
        self.assertRaisesKind(self.fault('SOAP-ENV:Client-105',
                'ERROR: Lançamento não cadastrado para o Código [7] !', 200),
            errors.NotFoundError, 'not_found', False)

    def test_server_errors(self):
        answers = [HTML_500,
            (500, 'Broken response from Application Server', {}),
            (200, '{"clientes_cadastro": [', {}),
            (502, '', {}),
            self.fault('SOAP-ENV:Client-8020', 'ERROR: erro interno'),
            ]
        for answer in answers:
            with self.subTest(answer=answer):
                error = self.assertRaisesKind(answer, errors.ServerError,
                    'remote_error', True)
                self.assertEqual(error.status, answer[0])

    def test_timeout(self):
        self.omie.delay = 0.3
        client = self.client(max_retries=0, timeout=0.1)
        with self.assertRaises(errors.TimeoutError) as raised:
            client.call('ListarEmpresas')
        self.assertEqual((raised.exception.kind, raised.exception.transient),
            ('timeout', True))

    def test_connection_refused(self):
        client = self.client(base_url=f'http://127.0.0.1:{free_port()}',
            max_retries=0)
        with self.assertRaises(errors.ConnectionError) as raised:
            client.call('ListarEmpresas')
        error = raised.exception
        self.assertEqual((error.kind, error.transient, error.not_executed),
            ('connection', True, True))
        self.assertEqual(client.calls, 0)

    def test_unexpected_redirect(self):
        self.assertRaisesKind((301, '', {'Location': 'https://x/'}),
            errors.OmieError, 'remote_error', False)

    def test_error_classes_contract(self):
        table = {
            errors.AuthenticationError: ('authentication', False),
            errors.RedundantRequestError: ('rate_limit', True),
            errors.ConcurrencyError: ('rate_limit', True),
            errors.MisuseBlockedError: ('rate_limit', True),
            errors.RateLimitError: ('rate_limit', True),
            errors.CircuitOpenError: ('rate_limit', True),
            errors.NotFoundError: ('not_found', False),
            errors.ValidationError: ('validation', False),
            errors.ServerError: ('remote_error', True),
            errors.TimeoutError: ('timeout', True),
            errors.ConnectionError: ('connection', True),
            }
        for cls, expected in table.items():
            error = cls(faultcode='x', faultstring='y', status=500,
                retry_after=3, call='ListarClientes')
            self.assertIsInstance(error, errors.OmieError)
            self.assertEqual((error.kind, error.transient), expected)
            self.assertEqual((error.faultcode, error.faultstring, error.status,
                    error.retry_after, error.call),
                ('x', 'y', 500, 3, 'ListarClientes'))


class RetryTest(OmieTestCase):

    def test_redundant_waits_what_omie_asks_then_succeeds(self):
        self.omie.script = [self.fault('SOAP-ENV:Client-6',
                'ERROR: Consumo redundante detectado. Aguarde 58 segundos '
                'para tentar novamente (REDUNDANT).')]
        self.omie.handler = lambda body: (200, {'codigo_cliente_omie': 1}, {})
        client = self.client()

        self.assertEqual(client.call('ConsultarCliente',
                codigo_cliente_omie=1), {'codigo_cliente_omie': 1})
        self.assertEqual(self.time.sleeps, [58])
        self.assertEqual(client.calls, 2)
        self.assertEqual(client.stats['retries'], 1)
        # what a run records of the method: both answers timed, the wait
        # Omie imposed
        self.assertEqual(len(client.latencies()['ConsultarCliente']), 2)
        stats = client.method_stats()['ConsultarCliente']
        self.assertEqual((stats['requests'], stats['retries'],
                stats['waited']), (2, 1, 58))
        self.assertIsNotNone(stats['p95_ms'])

    def test_percentiles_nearest_rank(self):
        samples = list(range(1, 101))
        self.assertEqual(percentile(samples, 50), 50)
        self.assertEqual(percentile(samples, 95), 95)
        self.assertEqual(percentile([7.4], 95), 7)
        self.assertIsNone(percentile([], 50))

    def test_latency_samples_are_bounded(self):
        self.omie.handler = lambda body: (200, {'codigo_cliente_omie': 1}, {})
        client = self.client()
        with patch.object(client_metrics, 'LATENCY_SAMPLES', 3):
            for number in range(5):
                client.call('ConsultarCliente', codigo_cliente_omie=number)
        self.assertEqual(len(client.latencies()['ConsultarCliente']), 3)
        self.assertEqual(
            client.method_stats()['ConsultarCliente']['requests'], 5)

    def test_exponential_backoff_on_server_errors(self):
        self.omie.script = [HTML_500] * 3
        client = self.client(backoff_base=1.0, backoff_cap=30)
        client.call('ListarEmpresas')
        self.assertEqual(self.time.sleeps, [1, 2, 4])

    def test_backoff_is_jittered_and_capped(self):
        self.omie.handler = lambda body: HTML_500
        client = self.client(rng=None, max_retries=6, backoff_base=1,
            backoff_cap=5)
        with self.assertRaises(errors.ServerError):
            client.call('ListarEmpresas')
        self.assertEqual(len(self.time.sleeps), 6)
        for attempt, wait in enumerate(self.time.sleeps):
            self.assertTrue(0 <= wait <= min(5, 2 ** attempt), wait)

    def test_retry_after_wins_over_a_shorter_backoff(self):
        self.omie.script = [(429, '', {'Retry-After': '9'}),
            (429, '', {'Retry-After': '1'})]
        self.client(backoff_base=4).call('ListarEmpresas')
        # max(retry_after, backoff): 9 > 4, then 1 < 8.
        self.assertEqual(self.time.sleeps, [9, 8])

    def test_gives_up_after_max_retries_with_the_last_error(self):
        self.omie.script = [HTML_500, HTML_500,
            self.fault('SOAP-ENV:Client-1880', 'ERROR: Já existe uma '
                'requisição desse método sendo executada')]
        client = self.client(max_retries=2)
        with self.assertRaises(errors.ConcurrencyError):
            client.call('ListarEmpresas')
        self.assertEqual(client.calls, 3)
        self.assertEqual(len(self.time.sleeps), 2)

    def test_permanent_errors_are_not_retried(self):
        for answer in (
                self.fault('SOAP-ENV:Server', 'A chave de acesso não está '
                    'preenchida ou não é válida.'),
                self.fault('SOAP-ENV:Client-5001', 'ERROR: Tag [X] não faz '
                    'parte da estrutura do tipo complexo [y]!'),
                self.fault('SOAP-ENV:Client-105',
                    'ERROR: Cliente não cadastrado para o Código [1] !')):
            with self.subTest(answer=answer):
                self.omie.reset()
                self.time.sleeps.clear()
                self.omie.handler = lambda body: answer
                client = self.client()
                with self.assertRaises(errors.OmieError):
                    client.call('ConsultarCliente', codigo_cliente_omie=1)
                self.assertEqual((client.calls, self.time.sleeps), (1, []))

    def test_long_misuse_block_raises_at_once_and_silences_the_method(self):
        self.omie.handler = lambda body: (425, {'faultcode':
                'MISUSE_API_PROCESS', 'faultstring': 'ERROR: API bloqueada '
                'por consumo indevido. Tente novamente em 1800 segundos.'}, {})
        client = self.client()
        with self.assertRaises(errors.MisuseBlockedError):
            client.call('ListarClientes', pagina=1)
        self.assertEqual((client.calls, self.time.sleeps), (1, []))

        # Calling inside the block would restart it: no request is sent.
        with self.assertRaises(errors.CircuitOpenError) as raised:
            client.call('ListarClientes', pagina=2)
        self.assertEqual(client.calls, 1)
        self.assertAlmostEqual(raised.exception.retry_after, 1800)

    def test_short_misuse_block_is_waited(self):
        self.omie.script = [(425, {'faultcode': 'MISUSE_API_PROCESS',
                    'faultstring': 'ERROR: API bloqueada por consumo '
                    'indevido. Tente novamente em 30 segundos.'}, {})]
        self.client().call('ListarClientes')
        self.assertEqual(self.time.sleeps, [30])

    def test_writes_are_not_retried_when_they_may_have_run(self):
        for answer in (HTML_500, self.fault('SOAP-ENV:Server', 'erro')):
            with self.subTest(answer=answer):
                self.omie.reset()
                self.omie.handler = lambda body: answer
                client = self.client()
                with self.assertRaises(errors.ServerError):
                    client.call('IncluirContaPagar',
                        codigo_lancamento_integracao='AP-1')
                self.assertEqual(client.calls, 1)

    def test_write_timeout_is_not_retried(self):
        self.omie.delay = 0.3
        client = self.client(timeout=0.1)
        with self.assertRaises(errors.TimeoutError):
            client.call('UpsertCliente', codigo_cliente_integracao='C1')
        self.assertEqual(len(self.omie.requests), 1)

    def test_read_timeout_is_retried(self):
        self.omie.delay = 0.3
        client = self.client(timeout=0.1, max_retries=1)
        with self.assertRaises(errors.TimeoutError):
            client.call('ListarEmpresas')
        self.assertEqual(len(self.time.sleeps), 1)

    def test_writes_are_retried_when_omie_refused_them(self):
        refusals = [(429, '', {}), (425, '', {'Retry-After': '5'}),
            self.fault('SOAP-ENV:Client-6', 'ERROR: Consumo redundante '
                'detectado. Aguarde 3 segundos (REDUNDANT).'),
            self.fault('SOAP-ENV:Client-1880', 'ERROR: Já existe uma '
                'requisição desse método sendo executada')]
        self.omie.script = list(refusals)
        self.omie.handler = lambda body: (200, {'codigo_status': '0',
                'codigo_lancamento_omie': 7}, {})
        client = self.client()
        answer = client.call('IncluirContaPagar',
            codigo_lancamento_integracao='AP-1')
        self.assertEqual(answer['codigo_lancamento_omie'], 7)
        self.assertEqual(client.calls, 5)
        self.assertEqual(self.time.sleeps, [60, 5, 4, 8])

    def test_write_retried_after_connection_refused(self):
        port = free_port()
        omie = FakeOmie()
        omie.handler = lambda body: (200, {'codigo_status': '0'}, {})
        servers = []

        def sleep_then_start_omie(seconds):
            self.time.sleep(seconds)
            server = make_server('127.0.0.1', port, omie, threaded=True)
            threading.Thread(target=server.serve_forever,
                kwargs={'poll_interval': 0.05}, daemon=True).start()
            servers.append(server)

        client = self.client(base_url=f'http://127.0.0.1:{port}',
            sleep=sleep_then_start_omie)
        try:
            client.call('IncluirCliente', razao_social='X')
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()
        self.assertEqual(len(omie.requests), 1)
        self.assertEqual(len(self.time.sleeps), 1)


class CircuitBreakerTest(OmieTestCase):

    def test_opens_before_omie_blocks_then_half_opens(self):
        self.omie.handler = lambda body: HTML_500
        client = self.client(max_retries=0, breaker_threshold=3,
            breaker_cooldown=60)
        for _ in range(3):
            with self.assertRaises(errors.ServerError):
                client.call('ListarClientes')
        self.assertEqual(client.circuit_state('ListarClientes'), 'open')

        with self.assertRaises(errors.CircuitOpenError) as raised:
            client.call('ListarClientes')
        error = raised.exception
        self.assertEqual((error.kind, error.transient, error.retry_after),
            ('rate_limit', True, 60))
        self.assertEqual(client.calls, 3)

        # Other methods are not affected.
        self.omie.handler = lambda body: (200, {}, {})
        client.call('ListarCategorias')

        self.time.now += 20
        with self.assertRaises(errors.CircuitOpenError) as raised:
            client.call('ListarClientes')
        self.assertEqual(raised.exception.retry_after, 40)

        # Half-open: a failing trial re-opens for a whole cool-down...
        self.time.now += 41
        self.omie.handler = lambda body: HTML_500
        with self.assertRaises(errors.ServerError):
            client.call('ListarClientes')
        with self.assertRaises(errors.CircuitOpenError):
            client.call('ListarClientes')
        # ...a succeeding trial closes it.
        self.time.now += 61
        self.omie.handler = lambda body: (200, {}, {})
        client.call('ListarClientes')
        self.assertEqual(client.circuit_state('ListarClientes'), 'closed')
        client.call('ListarClientes')

    def test_success_resets_the_count(self):
        self.omie.script = [HTML_500, HTML_500, (200, {}, {}), HTML_500,
            HTML_500]
        client = self.client(max_retries=0, breaker_threshold=3)
        for _ in range(5):
            try:
                client.call('ListarClientes')
            except errors.ServerError:
                pass
        self.assertEqual(client.circuit_state('ListarClientes'), 'closed')

    def test_default_stops_before_omies_tenth_error(self):
        self.omie.handler = lambda body: self.fault('SOAP-ENV:Client-105',
            'ERROR: Cliente não cadastrado para o Código [1] !')
        client = self.client()
        raised = []
        for n in range(12):
            try:
                client.call('ConsultarCliente', codigo_cliente_omie=n)
            except errors.OmieError as error:
                raised.append(type(error))
        self.assertLess(client.calls, 10)
        self.assertEqual(raised.count(errors.NotFoundError), 8)
        self.assertEqual(raised[-1], errors.CircuitOpenError)

    def test_default_clock_follows_freezegun(self):
        from freezegun import freeze_time
        with freeze_time('2026-11-21 12:00:00') as frozen:
            self.omie.handler = lambda body: HTML_500
            client = OmieClient(APP_KEY, SECRET, base_url=self.url,
                max_retries=0, breaker_threshold=2, cache_ttl=0)
            self.addCleanup(client.close)
            for _ in range(2):
                with self.assertRaises(errors.ServerError):
                    client.call('ListarClientes')
            with self.assertRaises(errors.CircuitOpenError):
                client.call('ListarClientes')
            frozen.tick(61)
            self.omie.handler = lambda body: (200, {}, {})
            client.call('ListarClientes')
            self.assertEqual(client.calls, 3)

    def test_empty_answer_neither_counts_nor_resets(self):
        "Omie (and the sandbox) do not count 5113, nor reset on it"
        self.omie.script = [HTML_500, HTML_500, NO_RECORDS, HTML_500]
        client = self.client(max_retries=0, breaker_threshold=3)
        for _ in range(4):
            try:
                client.call('ListarContasPagar', pagina=1)
            except errors.ServerError:
                pass
        self.assertEqual(client.circuit_state('ListarContasPagar'), 'open')

    def test_clients_on_one_store_share_the_count(self):
        self.omie.handler = lambda body: HTML_500
        store = MemoryGuardStore()
        first = self.client(max_retries=0, breaker_threshold=3,
            guard_store=store)
        second = self.client(max_retries=0, breaker_threshold=3,
            guard_store=store)
        for client in (first, second, first):
            with self.assertRaises(errors.ServerError):
                client.call('ListarClientes')
        with self.assertRaises(errors.CircuitOpenError):
            second.call('ListarClientes')
        self.assertEqual((first.calls, second.calls), (2, 1))

    def test_requests_in_flight_count_against_the_threshold(self):
        clock = FakeTime()
        breaker = CircuitBreaker(threshold=3, cooldown=10, clock=clock.clock)
        breaker.failure('A')
        breaker.before('A')
        breaker.before('A')
        # Both in flight may fail: a third could reach the threshold.
        self.assertRaises(errors.CircuitOpenError, breaker.before, 'A')
        breaker.success('A')
        breaker.before('A')

    def test_failed_last_trial_pauses_as_long_as_omies_block(self):
        clock = FakeTime()
        breaker = CircuitBreaker(threshold=8, cooldown=60, clock=clock.clock)
        for _ in range(8):
            breaker.before('A')
            breaker.failure('A')
        clock.now += 60
        breaker.before('A')  # the trial
        breaker.failure('A')  # 9 in a row: the next error is Omie's block
        with self.assertRaises(errors.CircuitOpenError) as raised:
            breaker.before('A')
        self.assertEqual(raised.exception.retry_after, 1800)

    def test_breaker_unit(self):
        clock = FakeTime()
        breaker = CircuitBreaker(threshold=2, cooldown=10, clock=clock.clock)
        breaker.failure('A')
        breaker.before('A')
        breaker.failure('A')
        self.assertRaises(errors.CircuitOpenError, breaker.before, 'A')
        clock.now += 10
        breaker.before('A')  # the single half-open trial
        self.assertRaises(errors.CircuitOpenError, breaker.before, 'A')
        breaker.success('A')
        self.assertEqual(breaker.state('A'), 'closed')


class RateLimiterTest(OmieTestCase):

    def test_per_method_window(self):
        clock = FakeTime()
        limiter = RateLimiter(per_method=3, overall=100, sleep=clock.sleep,
            clock=clock.clock)
        for _ in range(3):
            limiter.wait_turn('ListarClientes')
            clock.now += 1
        limiter.wait_turn('ListarCategorias')  # another method is free
        self.assertEqual(clock.sleeps, [])
        limiter.wait_turn('ListarClientes')
        # The first request (t=1000) leaves the window at t=1060; now 1003.
        self.assertEqual(clock.sleeps, [57])

    def test_overall_window(self):
        clock = FakeTime()
        limiter = RateLimiter(per_method=10, overall=2, sleep=clock.sleep,
            clock=clock.clock)
        limiter.wait_turn('A')
        limiter.wait_turn('B')
        limiter.wait_turn('C')
        self.assertEqual(clock.sleeps, [60])

    def test_frozen_clock_does_not_spin(self):
        sleeps = []
        limiter = RateLimiter(per_method=1, sleep=sleeps.append,
            clock=lambda: 5.0)
        limiter.wait_turn('A')
        limiter.wait_turn('A')
        self.assertEqual(sleeps, [60])

    def test_concurrent_slots_per_method(self):
        limiter = RateLimiter(concurrent=2)
        release = threading.Event()
        inside = []

        def worker():
            with limiter.slot('ListarClientes'):
                inside.append(1)
                release.wait(5)
        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        self.assertEqual(len(inside), 2)
        with limiter.slot('ListarCategorias'):  # other method: free
            pass
        release.set()
        for thread in threads:
            thread.join(5)
        self.assertEqual(len(inside), 3)

    def test_shared_client_keeps_four_in_flight_per_method(self):
        lock = threading.Lock()
        flight = {'now': 0, 'max': 0}

        def handler(body):
            with lock:
                flight['now'] += 1
                flight['max'] = max(flight['max'], flight['now'])
            time.sleep(0.02)
            with lock:
                flight['now'] -= 1
            return 200, {}, {}
        self.omie.handler = handler
        client = self.client(clock=time.monotonic)

        def worker(n):
            for m in range(4):
                client.call('ConsultarCliente', codigo_cliente_omie=n * 10 + m)
        threads = [threading.Thread(target=worker, args=(n,))
            for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual(client.calls, 32)
        self.assertLessEqual(flight['max'], 4)
        self.assertGreater(flight['max'], 1)

    def test_client_sleeps_to_respect_the_limit(self):
        client = self.client(requests_per_minute=2)
        for n in range(3):
            client.call('ConsultarCliente', codigo_cliente_omie=n)
        # Omie's minute plus a second of margin for the trip to Omie.
        self.assertEqual(self.time.sleeps, [61])
        self.assertEqual(client.stats['throttled_seconds'], 61)


class CacheTest(OmieTestCase):

    def test_repeated_read_is_served_from_cache(self):
        self.omie.handler = lambda body: (200, {'codigo_cliente_omie':
                body['param'][0]['codigo_cliente_omie']}, {})
        client = self.client(cache_ttl=55)

        first = client.call('ConsultarCliente', codigo_cliente_omie=1)
        first['mutated'] = True
        again = client.call('ConsultarCliente', codigo_cliente_omie=1)
        self.assertEqual(again, {'codigo_cliente_omie': 1})
        self.assertEqual(client.calls, 1)
        self.assertEqual(client.stats['cache_hits'], 1)
        self.assertEqual(client.stats['by_call']['ConsultarCliente'],
            {'requests': 1, 'retries': 0, 'cache_hits': 1, 'errors': 0,
                'waited': 0.0})

        client.call('ConsultarCliente', codigo_cliente_omie=2)
        self.assertEqual(client.calls, 2)

        self.time.now += 56
        client.call('ConsultarCliente', codigo_cliente_omie=1)
        self.assertEqual(client.calls, 3)

        client.clear_cache()
        client.call('ConsultarCliente', codigo_cliente_omie=1)
        self.assertEqual(client.calls, 4)

    def test_writes_and_errors_are_not_cached(self):
        client = self.client(cache_ttl=55)
        client.call('UpsertCliente', codigo_cliente_integracao='C1')
        client.call('UpsertCliente', codigo_cliente_integracao='C1')
        self.assertEqual(client.calls, 2)

        self.omie.script = [self.fault('SOAP-ENV:Client-105',
                'ERROR: Cliente não cadastrado para o Código [1] !')]
        with self.assertRaises(errors.NotFoundError):
            client.call('ConsultarCliente', codigo_cliente_omie=1)
        client.call('ConsultarCliente', codigo_cliente_omie=1)
        self.assertEqual(client.calls, 4)

    def test_cache_is_a_bounded_lru(self):
        clock = FakeTime()
        cache = ReadCache(ttl=55, maxsize=2, clock=clock.clock)
        cache.put('a', 1)
        cache.put('b', 2)
        cache.get('a')
        cache.put('c', 3)
        self.assertEqual((cache.get('a'), cache.get('b'), cache.get('c')),
            (1, None, 3))
        self.assertEqual(ReadCache.key('p/', 'X', {'b': 1, 'a': 2}),
            ReadCache.key('p/', 'X', {'a': 2, 'b': 1}))


class SecretTest(OmieTestCase):
    "The App Secret never shows in errors, logs, reprs or cache keys"

    def assertNoSecret(self, *texts):
        for text in texts:
            self.assertNotIn(SECRET, str(text))

    def test_secret_never_leaks(self):
        echo = self.fault('SOAP-ENV:Server', 'A chave de acesso não está '
            f'preenchida ou não é válida. [{SECRET}]', 403,
            {'OmieAPI-Error': f'99 - {SECRET}'})
        self.omie.script = [self.fault('SOAP-ENV:Client-6',
                f'ERROR: Consumo redundante ({SECRET}). Aguarde 2 segundos'),
            echo]
        client = self.client(app_secret=f' {SECRET} ', cache_ttl=55)
        with self.assertLogs('novagestao_omie.omie.client',
                logging.DEBUG) as logs:
            with self.assertRaises(errors.AuthenticationError) as raised:
                client.call('ListarClientes', pagina=1)
            client.call('ListarCategorias', pagina=1)
        error = raised.exception
        self.assertTrue(any('retry' in line for line in logs.output))
        self.assertNoSecret(str(error), repr(error), error.args,
            error.faultstring, '\n'.join(logs.output), repr(client),
            list(client._cache._entries), vars(client), client.stats)

    def test_secret_not_in_connection_or_timeout_errors(self):
        client = self.client(base_url=f'http://127.0.0.1:{free_port()}',
            max_retries=0)
        with self.assertRaises(errors.ConnectionError) as raised:
            client.call('ListarEmpresas')
        self.assertNoSecret(str(raised.exception), raised.exception.args,
            repr(raised.exception))


try:  # The realistic Omie, built by the sandbox's author.
    from novagestao_omie.omie.sandbox import (
        Sandbox, SandboxSettings, generate_dataset)
except ImportError:  # pragma: no cover - only while it is being written
    Sandbox = None


@unittest.skipIf(Sandbox is None, 'the Omie sandbox is not available')
class SandboxTest(unittest.TestCase):
    """Whole datasets and Omie's consumption rules, against the sandbox.

    The sandbox and the client share one fake clock: when the client
    "sleeps" the sandbox sees the time pass, so rule windows (redundant
    calls, rate limits, misuse blocks) play out without real waiting.
    """

    @classmethod
    def setUpClass(cls):
        cls.dataset = generate_dataset(seed=3, parties=60, titles=600,
            movements=200)
        cls.sandbox = Sandbox(cls.dataset,
            settings=SandboxSettings(redundant_window=0))
        cls.server = cls.sandbox.serve(host='127.0.0.1', port=0)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def setUp(self):
        self.time = FakeTime(start=time.time())
        settings = self.sandbox.settings
        saved = settings.as_json()
        settings.clock = self.time.clock
        self.addCleanup(setattr, settings, 'clock', time.time)
        self.addCleanup(settings.update, saved)
        self.sandbox.rules.reset()

    def configure(self, **changes):
        self.sandbox.settings.update(changes)

    def client(self, app_secret=Sandbox and Sandbox.DEFAULT_APP_SECRET,
            **kwargs):
        options = dict(base_url=self.server.url, sleep=self.time.sleep,
            clock=self.time.clock, cache_ttl=0, rng=MaxJitter(), timeout=5)
        options.update(kwargs)
        client = OmieClient(Sandbox.DEFAULT_APP_KEY, app_secret, **options)
        self.addCleanup(client.close)
        return client

    def test_lists_every_record_in_both_dialects(self):
        data = self.dataset
        expected = {
            'ListarClientes': (7, len(data.parties), 'codigo_cliente_omie'),
            'ListarCategorias': (10, len(data.categories), 'codigo'),
            'ListarContasCorrentes': (2, len(data.accounts), 'nCodCC'),
            'ListarContasPagar': (70, len(data.payables),
                'codigo_lancamento_omie'),
            'ListarContasReceber': (500, len(data.receivables),
                'codigo_lancamento_omie'),
            'ListarLancCC': (90, len(data.movements) + len(data.settlements),
                'nCodLanc'),
            'ListarNF': (10, len(data.invoices), None),
            }
        for call, (size, count, id_key) in expected.items():
            with self.subTest(call=call):
                client = self.client()
                listed = list(client.iterate(call, page_size=size))
                self.assertEqual(len(listed), count)
                if id_key:
                    self.assertEqual(len({r[id_key] for r in listed}), count)
                # Stopped on total pages, never asked past the end.
                self.assertEqual(client.calls, -(-count // size))
                parse = records.RECORD_PARSERS[call]
                parsed = [parse(record) for record in listed]
                self.assertEqual(len(parsed), count)

        client = self.client()
        pages = list(client.iterate_pages('ListarMovimentos', page_size=150))
        titles = len(data.payables) + len(data.receivables)
        self.assertEqual(sum(len(p.records) for p in pages),
            titles + len(data.movements))
        self.assertEqual([(p.number, p.total_pages) for p in pages][-1],
            (len(pages), len(pages)))
        baixas = [records.Settlement.from_movement(item) for item in
            client.iterate('ListarMovimentos', cTpLancamento='BX')]
        self.assertEqual(len(baixas), len(data.settlements))
        self.assertTrue(all(baixas))

    def test_statement_without_marker_rows(self):
        client = self.client()
        account = self.dataset.accounts[0]['nCodCC']
        statement = records.Statement.from_omie(client.get_statement(account,
                self.dataset.today - dt.timedelta(days=365),
                self.dataset.today))
        self.assertTrue(statement.lines)
        self.assertTrue(statement.balanced)
        self.assertFalse([line for line in statement.lines
                if line.description.upper().startswith('SALDO')])

    def test_injected_faults_are_retried(self):
        self.configure(fail_next=['html', 'broken', 'server', 'concurrency'])
        client = self.client()
        self.assertTrue(client.test_connection())
        self.assertEqual(client.calls, 5)
        self.assertEqual(self.time.sleeps, [1, 2, 4, 8])

    def test_injected_timeout_is_retried_for_reads(self):
        self.configure(fail_next=[{'kind': 'timeout', 'seconds': 0.3}])
        client = self.client(timeout=0.1)
        self.assertTrue(client.test_connection())
        self.assertEqual(client.calls, 2)

    def test_redundant_rule_waits_or_is_avoided_by_the_cache(self):
        self.configure(redundant_window=60)
        party = self.dataset.parties[0]['codigo_cliente_omie']
        client = self.client()
        client.call('ConsultarCliente', codigo_cliente_omie=party)
        client.call('ConsultarCliente', codigo_cliente_omie=party)
        self.assertEqual(self.time.sleeps, [60])
        self.assertEqual(client.calls, 3)

        cached = self.client(cache_ttl=55)
        other = self.dataset.parties[1]['codigo_cliente_omie']
        for _ in range(3):
            cached.call('ConsultarCliente', codigo_cliente_omie=other)
        self.assertEqual((cached.calls, self.time.sleeps), (1, [60]))

    def test_redundant_read_answered_by_a_moment_before(self):
        "A run right after another reads what Omie refuses: no minute lost"
        self.configure(redundant_window=60)
        party = self.dataset.parties[2]['codigo_cliente_omie']
        first = self.client(cache_ttl=55)
        answer = first.call('ConsultarCliente', codigo_cliente_omie=party)
        # the client of the next run, in the same process
        second = self.client(cache_ttl=55)
        self.assertEqual(
            second.call('ConsultarCliente', codigo_cliente_omie=party),
            answer)
        self.assertEqual(self.time.sleeps, [])
        self.assertEqual((second.calls, second.stats['cache_hits']), (1, 1))
        # without a cache, the client waits what Omie asks
        plain = self.client()
        self.assertEqual(
            plain.call('ConsultarCliente', codigo_cliente_omie=party), answer)
        self.assertEqual(len(self.time.sleeps), 1)

    def test_rate_limit_is_honoured_or_avoided(self):
        self.configure(method_rate_per_minute=3)
        client = self.client()
        for n in range(4):
            client.call('ListarClientes', pagina=1, registros_por_pagina=n + 1)
        self.assertEqual(self.time.sleeps, [60])  # Omie's Retry-After

        self.time.now += 120
        polite = self.client(requests_per_minute=3)
        for n in range(4):
            polite.call('ListarClientes', pagina=1, registros_por_pagina=n + 1)
        self.assertEqual(polite.calls, 4)  # no 429: it waited first
        self.assertEqual(self.time.sleeps[-1], 61)

    def test_breaker_stops_before_the_misuse_block(self):
        client = self.client()
        raised = []
        for n in range(12):
            try:
                client.call('ConsultarCliente', codigo_cliente_omie=n + 1)
            except errors.OmieError as error:
                raised.append(type(error))
        self.assertEqual(raised, [errors.NotFoundError] * 8
            + [errors.CircuitOpenError] * 4)
        self.assertEqual(self.sandbox.rules.blocked_until, {})

    def test_two_clients_on_one_store_never_reach_the_block(self):
        "Two clients (two webhook batches) of one App Key, one count"
        store = MemoryGuardStore()
        raised = []
        for client in (self.client(guard_store=store),
                self.client(guard_store=store)):
            for n in range(6):
                try:
                    client.call('ConsultarCliente', codigo_cliente_omie=n + 1)
                except errors.OmieError as error:
                    raised.append(type(error))
        self.assertEqual(raised, [errors.NotFoundError] * 8
            + [errors.CircuitOpenError] * 4)
        self.assertEqual(self.sandbox.rules.blocked_until, {})

    def test_misuse_block_without_breaker(self):
        client = self.client(breaker_threshold=0)
        for n in range(10):
            with self.assertRaises(errors.NotFoundError):
                client.call('ConsultarCliente', codigo_cliente_omie=n + 1)
        with self.assertRaises(errors.MisuseBlockedError) as raised:
            client.call('ConsultarCliente', codigo_cliente_omie=99)
        self.assertEqual(raised.exception.retry_after, 1800)
        self.assertEqual(raised.exception.status, 425)
        # Not retried, and no more calls that would restart the block.
        with self.assertRaises(errors.CircuitOpenError):
            client.call('ConsultarCliente', codigo_cliente_omie=100)
        self.assertEqual((client.calls, self.time.sleeps), (11, []))

    def test_bad_credentials(self):
        client = self.client(app_secret='f' * 32)
        with self.assertRaises(errors.AuthenticationError) as raised:
            client.test_connection()
        self.assertEqual(client.calls, 1)
        self.assertNotIn('f' * 32, str(raised.exception))

    def test_writes(self):
        client = self.client()
        self.configure(fail_next=['rate_limit'])
        answer = client.call('UpsertCliente',
            codigo_cliente_integracao='TEST-W1', razao_social='Teste Ltda',
            cnpj_cpf='11.444.777/0001-61', tags=[{'tag': 'Fornecedor'}])
        self.assertEqual(client.calls, 2)  # refused by a 429, then sent
        self.assertEqual(self.time.sleeps, [60])
        party = records.Party.from_omie(client.call('ConsultarCliente',
                codigo_cliente_omie=answer['codigo_cliente_omie']))
        self.assertEqual((party.integration_code, party.document,
                party.is_supplier, party.is_customer),
            ('TEST-W1', '11444777000161', True, False))

        self.configure(fail_next=['server'])
        with self.assertRaises(errors.ServerError):
            client.call('UpsertCliente', codigo_cliente_integracao='TEST-W2',
                razao_social='Outra Ltda')
        self.assertEqual(client.calls, 4)  # may have run: not repeated

        with self.assertRaises(errors.DuplicateError) as raised:
            client.call('IncluirCliente', codigo_cliente_integracao='TEST-W3',
                razao_social='Dup Ltda', cnpj_cpf='11.444.777/0001-61')
        self.assertEqual(raised.exception.existing_id,
            answer['codigo_cliente_omie'])


if __name__ == '__main__':
    unittest.main()
