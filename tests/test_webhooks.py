# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"End-to-end: Omie webhooks delivered to trytond's route and applied"
import datetime as dt
import json
import logging
import threading
import time
import unittest
import uuid
from decimal import Decimal

import requests
from werkzeug.serving import make_server
from werkzeug.test import Client

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.wsgi import app

from novagestao_omie.omie import records
from novagestao_omie.omie.sandbox import Sandbox
from novagestao_omie import webhook_bulk
from novagestao_omie.routes import MAX_BODY
from novagestao_omie.webhook_bulk import BULK_MIN

from . import test_sync_titles
from .tools import OmieEndToEndTestCase

ROUTE = '/%s/novagestao_omie/webhook/%s'
NOT_STATEMENTS = [
    'category', 'bank_account', 'party', 'payable', 'receivable',
    'settlement', 'nf']


class WebhookCase(OmieEndToEndTestCase):
    "An integration that receives webhooks, and delivery helpers"
    sandbox_options = {'seed': 31}

    # the title helpers of the sync tests (taken through their module: a
    # test class in this module's namespace would run here again)
    _titles = test_sync_titles.TitlesTestCase
    set_integration = _titles.set_integration
    omie_client = _titles.omie_client
    classifying_categories = _titles.classifying_categories
    accounts = _titles.accounts
    map_categories = _titles.map_categories
    invoices_by_title = _titles.invoices_by_title
    open_title = _titles.open_title
    del _titles

    def setUp(self):
        super().setUp()
        self.set_integration(
            status='active', receive_webhooks=True, filter_months_back=13,
            filter_entities=NOT_STATEMENTS)
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            self.token = Integration(self.integration_id).webhook_token
        self.client = Client(app)

    # helpers

    def message(self, topic, event, **extra):
        return dict({
                'messageId': str(uuid.uuid4()),
                'topic': topic,
                'event': event,
                'author': {'email': 'ana@example.com', 'name': 'Ana',
                    'userId': 7},
                'appKey': Sandbox.DEFAULT_APP_KEY,
                'appHash': 'novagestao-ab12cd34',
                'origin': 'omie-connect-2.0',
                }, **extra)

    def post(self, body, token=None, content_type='application/json'):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return self.client.post(
            ROUTE % (DB_NAME, token or self.token), data=body,
            content_type=content_type)

    def events(self, **domain):
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            return [
                (e.topic, e.state, e.message_id, e.error, e.result)
                for e in Event.search([
                        ('integration', '=', self.integration_id),
                        ] + [(k, '=', v) for k, v in domain.items()],
                    order=[('id', 'ASC')])]

    def serve_sandbox_deliveries(self):
        """Serve trytond on loopback in this thread (where the test database
        lives) until the sandbox delivered everything it queued"""
        server = make_server('127.0.0.1', 0, app)
        server.timeout = 0.05
        self.sandbox.register_webhook('http://127.0.0.1:%s%s' % (
                server.server_port, ROUTE % (DB_NAME, self.token)))
        return server

    def pump(self, server, timeout=60):
        emitter = self.sandbox.webhooks
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server.handle_request()
            with emitter.condition:
                if not emitter.queue and not emitter.busy:
                    return
        self.fail("the sandbox did not deliver its webhooks in time")

    def bound(self, kind, omie_id):
        "The local record bound to an Omie record, or None"
        pool = Pool()
        Binding = pool.get('integration.binding')
        Integration = pool.get('integration.integration')
        return Binding.records_of(
            Integration(self.integration_id), kind, [omie_id]).get(
            str(omie_id))

    def party(self, omie_id):
        return self.bound('party', omie_id)

    def run_queue(self):
        "Run the queued tasks as a worker would"
        from trytond.worker import run_task
        with self.transaction(readonly=True):
            Queue = Pool().get('ir.queue')
            tasks = [t.id for t in Queue.search(
                    [('dequeued_at', '=', None)])]
        for task in tasks:
            run_task(DB_NAME, task)


class WebhookTestCase(WebhookCase):
    "Deliveries through trytond's WSGI application"

    # authentication and bad input

    def test_ping_answers_200(self):
        response = self.post({'ping': 'omie'})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.events(), [])

    def test_unknown_token_and_app_key_are_forbidden(self):
        for token in ['x' * 43, self.token[:-1]]:
            response = self.post(self.message('ClienteFornecedor.Alterado',
                    {'codigo_cliente_omie': 1}), token=token)
            self.assertEqual(response.status_code, 403)
            self.assertNotIn(self.token, response.get_data(as_text=True))
        response = self.post(self.message('ClienteFornecedor.Alterado',
                {'codigo_cliente_omie': 1}, appKey='9999999999999'))
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.get_json(), {'status': 'forbidden'})
        self.assertEqual(self.events(), [])

        # off while the flag is off, and after regenerating the token
        self.set_integration(receive_webhooks=False)
        self.assertEqual(self.post({'ping': 'omie'}).status_code, 403)
        self.set_integration(receive_webhooks=True)
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            Integration.regenerate_webhook_token([integration])
            transaction.commit()
        self.assertEqual(self.post({'ping': 'omie'}).status_code, 403)
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            self.assertNotEqual(integration.webhook_token, self.token)
            self.assertTrue(integration.webhook_url.endswith(
                    '/%s/novagestao_omie/webhook/%s' % (
                        DB_NAME, integration.webhook_token)))

    def test_token_not_logged(self):
        with self.assertLogs('trytond.wsgi', level='INFO') as logs:
            # a log line of the suite keeps assertLogs happy either way
            logging.getLogger('trytond.wsgi').info(
                'POST %s', ROUTE % (DB_NAME, self.token))
            self.post({'ping': 'omie'})
        output = '\n'.join(logs.output)
        self.assertNotIn(self.token, output)
        self.assertIn('webhook/***', output)

    def test_malformed_deliveries_get_400_and_are_recorded(self):
        cases = [
            (b'{"messageId": ', 'application/json', 'JSON', 400),
            (b'[1, 2]', 'application/json', 'object', 400),
            (b'\xff\xfe', 'application/json', 'JSON', 400),
            (json.dumps(self.message('X', {})), 'text/plain', 'text/plain',
                415),
            # without messageId an event is still Omie's; without its
            # topic it cannot be applied
            (json.dumps({'messageId': str(uuid.uuid4()), 'event': {},
                        'appKey': Sandbox.DEFAULT_APP_KEY}),
                'application/json', 'topic', 400),
            (b'{"a": "' + b'x' * MAX_BODY + b'"}', 'application/json',
                str(MAX_BODY), 413),
            ]
        for body, content_type, expected, status in cases:
            with self.subTest(expected=expected):
                response = self.post(body, content_type=content_type)
                self.assertEqual(response.status_code, status)
                self.assertIn(expected, response.get_json()['error'])
        rejected = self.events(state='rejected')
        self.assertEqual(len(rejected), len(cases))
        for (_, _, expected, _), (_, _, message_id, error, _) in zip(
                cases, rejected):
            self.assertIsNone(message_id)
            self.assertIn(expected, error)
        # the route still works
        self.assertEqual(self.post({'ping': 'omie'}).status_code, 200)

    def test_duplicate_delivery_is_acknowledged_once(self):
        message = self.message('Categoria.Alterada', {'codigo': '9.99.99'})
        first = self.post(message)
        second = self.post(message)
        self.assertEqual(first.status_code, 200)
        self.assertEqual(first.get_json(), {'status': 'accepted'})
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.get_json(), {'status': 'duplicate'})
        self.assertEqual(len(self.events()), 1)
        # the time from its arrival to its answer is recorded, and the
        # dashboard's day counts it
        with self.transaction(readonly=True) as transaction:
            pool = Pool()
            Event = pool.get('integration.webhook.event')
            Report = pool.get('integration.report.webhook')
            event, = Event.search([
                    ('integration', '=', self.integration_id)])
            self.assertIsInstance(event.ack_ms, int)
            self.assertTrue(0 <= event.ack_ms < 7000, event.ack_ms)
            with transaction.set_context(
                    dashboard_integration=self.integration_id):
                day, = Report.search([])
                self.assertEqual((day.received, day.waiting, day.ack_count),
                    (1, 1, 1))
                self.assertEqual(day.ack_ms, event.ack_ms)

    def test_unknown_topic_and_filtered_entity_are_ignored(self):
        self.post(self.message('VendaProduto.Incluida', {'id': 1}))
        self.set_integration(filter_entities=['party'])
        self.post(self.message(
                'Financas.ContaPagar.Alterado',
                {'codigo_lancamento_omie': 1}))
        events = self.events()
        self.assertEqual([e[1] for e in events], ['ignored', 'ignored'])
        self.assertIn('VendaProduto.Incluida', events[0][4])
        self.assertIn('Financas.ContaPagar.Alterado', events[1][4])

    def test_event_without_id_fails_without_retry(self):
        self.post(self.message('ClienteFornecedor.Alterado', {'nome': 'X'}))
        (_, state, _, error, _), = self.events()
        self.assertEqual(state, 'failed')
        self.assertIn('codigo_cliente_omie', error)

    # processing

    def test_party_change_through_the_sandbox_emitter(self):
        "The sandbox delivers over HTTP; the change appears in Tryton"
        self.sync()
        omie_id = self.sandbox.dataset.parties[0]['codigo_cliente_omie']
        server = self.serve_sandbox_deliveries()
        self.addCleanup(server.server_close)
        self.sandbox.change('party', omie_id, razao_social='Nova Razão Ltda',
            nome_fantasia='Nova Razão')
        self.pump(server)
        events = self.events()
        self.assertEqual(
            [(e[0], e[1]) for e in events],
            [('ClienteFornecedor.Alterado', 'done')])
        self.assertIn(str(omie_id), events[0][4])
        with self.transaction(readonly=True):
            party = self.party(omie_id)
            self.assertIn('Nova Razão', party.name)

        # a client created and then deleted in Omie
        created = self.omie_client().call('IncluirCliente',
            codigo_cliente_integracao='WH-1', razao_social='Cliente Webhook',
            cnpj_cpf='11.222.333/0001-81', email='cliente@example.com')
        new_id = created['codigo_cliente_omie']
        self.pump(server)
        with self.transaction(readonly=True):
            self.assertEqual(self.party(new_id).name, 'Cliente Webhook')
        self.sandbox.change('party', new_id, _delete=True)
        self.pump(server)
        with self.transaction(readonly=True):
            party = self.party(new_id)
            self.assertFalse(party.active)
        self.assertEqual(
            [e[1] for e in self.events()], ['done'] * 3)

        # the next scheduled sync duplicates nothing
        self.sync()
        with self.transaction(readonly=True):
            Party = Pool().get('party.party')
            self.assertEqual(
                Party.search_count([('name', '=', 'Cliente Webhook'),
                        ('active', 'in', [True, False])]), 1)

    def test_titles_settlements_and_deletes(self):
        self.map_categories()
        self.sync()
        payable = self.open_title('CP')
        receivable = self.open_title('CR')
        server = self.serve_sandbox_deliveries()
        self.addCleanup(server.server_close)
        client = self.omie_client()
        today = records.format_date(self.sandbox.store.today())

        # an amount changed after posting: the invoice is replaced
        amount = records.parse_decimal(payable.value) + Decimal('10.00')
        self.sandbox.change('payable', payable.id, valor_documento=float(
                amount))
        self.pump(server)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertEqual(invoice.total_amount, amount)
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.omie_replaces.state, 'cancelled')

        # settled in Omie: BaixaRealizada pays the invoice
        settled = client.call('LancarPagamento',
            codigo_lancamento=payable.id,
            codigo_conta_corrente=payable.account, valor=float(amount),
            data=today)
        self.pump(server)
        with self.transaction(readonly=True):
            self.assertEqual(
                self.invoices_by_title()[payable.id].state, 'paid')

        # the settlement cancelled in Omie: BaixaCancelada reverses it
        client.call('CancelarPagamento', codigo_baixa=settled['codigo_baixa'])
        self.pump(server)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.amount_to_pay, amount)
        self.assertIn('payment is reversed', self.events()[-1][4])

        # delivered again: nothing bound is left, and the event says so
        self.post(self.message('Financas.ContaPagar.BaixaCancelada', [{
                        'codigo_baixa': settled['codigo_baixa'],
                        'codigo_lancamento_omie': payable.id,
                        }]))
        (topic, state, _, _, result) = self.events()[-1]
        self.assertEqual(
            (topic, state), ('Financas.ContaPagar.BaixaCancelada', 'done'))
        self.assertIn('nothing to reverse', result)
        self.assertIn(str(settled['codigo_baixa']), result)
        self.assertNotIn('payment is reversed', result)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.amount_to_pay, amount)

        # deleted in Omie: the invoice is cancelled, never deleted
        self.sandbox.change('receivable', receivable.id, _delete=True)
        self.pump(server)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[receivable.id]
            self.assertEqual(invoice.state, 'cancelled')
        states = [(e[0], e[1]) for e in self.events()]
        self.assertEqual(states, [
                ('Financas.ContaPagar.Alterado', 'done'),
                ('Financas.ContaPagar.BaixaRealizada', 'done'),
                ('Financas.ContaPagar.BaixaCancelada', 'done'),
                ('Financas.ContaPagar.BaixaCancelada', 'done'),
                ('Financas.ContaReceber.Excluido', 'done'),
                ])

        # the next scheduled sync agrees and changes nothing
        state, summary, _ = self.sync()
        self.assertEqual(
            sum(c['created'] + c['updated'] for c in summary.values()), 0,
            summary)

    def test_settlement_bank_fee(self):
        "A settlement's tarifa is booked as a bank fee, both ways"
        self.map_categories()
        self.sync()
        server = self.serve_sandbox_deliveries()
        self.addCleanup(server.server_close)
        client = self.omie_client()
        today = records.format_date(self.sandbox.store.today())
        self.sandbox.configure(settlement_fee=2.5)
        fee = Decimal('2.50')
        moved = {}
        for kind, call in [('CR', 'LancarRecebimento'),
                ('CP', 'LancarPagamento')]:
            title = self.open_title(kind)
            value = records.parse_decimal(title.value)
            client.call(call, codigo_lancamento=title.id,
                codigo_conta_corrente=title.account, valor=float(value),
                data=today)
            # the bank fee is withheld from a receipt, added to a payment
            moved[title.id] = (value, value - fee if kind == 'CR'
                else value + fee)
        self.pump(server)
        self.assertEqual([e[1] for e in self.events()], ['done', 'done'],
            self.events())
        with self.transaction(readonly=True):
            Binding = Pool().get('integration.binding')
            fee_account, = [b.record for b in Binding.search([
                        ('integration', '=', self.integration_id),
                        ('kind', '=', 'account'),
                        ('external_id', '=', 'bank_fee')])]
            self.assertEqual(fee_account.type.expense, True)
            invoices = self.invoices_by_title()
            for title_id, (value, bank) in moved.items():
                invoice = invoices[title_id]
                self.assertEqual(invoice.state, 'paid')
                self.assertEqual(invoice.total_amount, value)
                payment, = invoice.payment_lines
                lines = payment.move.lines
                fees = [l for l in lines if l.account == fee_account]
                self.assertEqual([(l.debit, l.credit) for l in fees],
                    [(fee, 0)])
                clearing = [l for l in lines if l != payment
                    and l.account != fee_account]
                self.assertEqual(
                    [abs(l.debit - l.credit) for l in clearing], [bank])
        # the list of settlements reads the same fee: nothing changes
        summary = self.sync()[1]
        self.assertEqual(
            sum(c['created'] + c['updated'] for c in summary.values()), 0,
            summary)

    def test_bank_account_events(self):
        self.sync()
        account = self.sandbox.dataset.accounts[0]['nCodCC']
        self.post(self.message('Financas.ContaCorrente.Alterado',
                {'nCodCC': account, 'descricao': 'Conta'}))
        self.post(self.message('Financas.ContaCorrente.Excluido',
                {'nCodCC': account}))
        events = self.events()
        self.assertEqual([e[1] for e in events], ['done', 'done'])
        self.assertIn('Financas.ContaCorrente %s' % account, events[0][4])
        self.assertIn('Financas.ContaCorrente %s' % account, events[1][4])
        with self.transaction(readonly=True):
            # a journal whose ledger holds accounting stays
            journal = self.bound('bank_account', account)
            self.assertEqual(
                journal.__name__, 'account.statement.journal')

    def test_categories_nf_and_bank_movements(self):
        self.set_integration(filter_entities=None)
        self.map_categories()
        self.sync()
        server = self.serve_sandbox_deliveries()
        self.addCleanup(server.server_close)

        # a category renamed in Omie
        code = sorted(self.classifying_categories())[0]
        self.sandbox.change('category', code, descricao='Nome Novo')
        # an NF cancelled in Omie
        nf = next(n for n in self.sandbox.dataset.invoices
            if not n['ide']['dCan'] and n['titulos'])
        self.sandbox.change('invoice', nf['compl']['nIdNF'], cancelar=True)
        # a bank movement entered in Omie today, then changed, then deleted
        account = self.sandbox.dataset.accounts[0]['nCodCC']
        expense = next(c for c, v in sorted(
                self.classifying_categories().items())
            if v['conta_receita'] != 'S')
        today = self.sandbox.store.today()
        status = self.omie_client().call('IncluirLancCC',
            cCodIntLanc='WH-LANC-1',
            cabecalho={'nCodCC': account,
                'dDtLanc': records.format_date(today), 'nValorLanc': 123.45},
            detalhes={'cCodCateg': expense, 'cObs': 'Tarifa'})
        movement = status['nCodLanc']
        self.pump(server)
        with self.transaction(readonly=True):
            Mapping = Pool().get('integration.mapping')
            mapping, = Mapping.search([
                    ('integration', '=', self.integration_id),
                    ('external_code', '=', code)])
            self.assertEqual(mapping.external_name, 'Nome Novo')
            invoices = self.invoices_by_title()
            for title in nf['titulos']:
                if title['nCodTitulo'] in invoices:
                    self.assertTrue(
                        invoices[title['nCodTitulo']].omie_nf_cancelled)
            line = self.bound('statement_line', movement)
            self.assertEqual(line.amount, Decimal('-123.45'))
            self.assertEqual(line.statement.state, 'draft')

        self.sandbox.change('movement', movement,
            cabecalho={'nValorLanc': 150.0})
        self.pump(server)
        with self.transaction(readonly=True):
            line = self.bound('statement_line', movement)
            self.assertEqual(line.amount, Decimal('-150.00'))

        # an event with the entry's id only: Omie's record tells its month
        self.post(self.message('Financas.ContaCorrente.Lancamento.Alterado',
                {'nCodLanc': movement}))
        with self.transaction(readonly=True):
            line = self.bound('statement_line', movement)
            self.assertEqual(line.amount, Decimal('-150.00'))

        self.sandbox.change('movement', movement, _delete=True)
        self.pump(server)
        with self.transaction(readonly=True):
            Line = Pool().get('account.statement.line')
            self.assertIsNone(self.bound('statement_line', movement))
            self.assertFalse(Line.search([('amount', '=', Decimal('-150'))]))
        self.assertEqual(
            {e[1] for e in self.events()}, {'done'}, self.events())

        # a movement of a posted statement deleted in Omie: its line stays,
        # a posted entry reverses it
        with self.transaction(readonly=True):
            Binding = Pool().get('integration.binding')
            binding = next(b for b in Binding.search([
                        ('integration', '=', self.integration_id),
                        ('kind', '=', 'statement_line'),
                        ], order=[('id', 'ASC')])
                if b.record and b.record.statement.state == 'posted'
                and b.record.amount
                # a movement of its own (not a settlement's) Omie can delete
                and int(b.external_id) in self.sandbox.store.movement_by_id)
            line, movement = binding.record, int(binding.external_id)
            line_id, amount = line.id, line.amount
            bank_account = line.statement.journal.account.id
            statement_lines = len(line.statement.lines)
        self.sandbox.change('movement', movement, _delete=True)
        self.pump(server)
        topic, state, _, error, result = self.events()[-1]
        self.assertEqual(
            (topic, state), ('Financas.ContaCorrente.Lancamento.Excluido',
                'done'), error)
        self.assertIn('reversing entry', result)
        with self.transaction(readonly=True):
            pool = Pool()
            Line = pool.get('account.statement.line')
            Move = pool.get('account.move')
            line = Line(line_id)
            self.assertEqual(line.statement.state, 'posted')
            self.assertEqual(len(line.statement.lines), statement_lines)
            self.assertIsNone(self.bound('statement_line', movement))
            reversal, = Move.search([('origin', '=', str(line.move))])
            self.assertEqual(reversal.state, 'posted')
            self.assertIn(reversal.rec_name, result)
            self.assertEqual(reversal.journal, line.statement.journal.journal)
            bank, = [l for l in reversal.lines
                if l.account.id == bank_account]
            # the bank account gives back what the line brought
            self.assertEqual(bank.debit - bank.credit, -amount)
            self.assertEqual(
                sum(l.debit - l.credit for l in reversal.lines), 0)
            for original in line.move.lines:
                if original.origin == line and original.account.reconcile:
                    self.assertTrue(original.reconciliation)

        # delivered again: nothing left to reverse
        self.post(self.message('Financas.ContaCorrente.Lancamento.Excluido',
                {'nCodLanc': movement}))
        topic, state, _, _, result = self.events()[-1]
        self.assertEqual(state, 'done')
        self.assertIn('nothing to do', result)
        with self.transaction(readonly=True):
            Move = Pool().get('account.move')
            line = Pool().get('account.statement.line')(line_id)
            self.assertEqual(Move.search_count(
                    [('origin', '=', str(line.move))]), 1)

    def test_late_and_repeated_events_keep_the_newest_data(self):
        "An old event delivered late applies Omie's current record"
        self.sync()
        omie_id = self.sandbox.dataset.parties[1]['codigo_cliente_omie']
        self.sandbox.change('party', omie_id, razao_social='Primeira Ltda')
        first = self.sandbox.webhooks.message(
            'ClienteFornecedor.Alterado',
            self.sandbox.store.render_party(self.sandbox.store.party(
                    omie_id)))
        self.sandbox.change('party', omie_id, razao_social='Segunda Ltda')
        second = self.sandbox.webhooks.message(
            'ClienteFornecedor.Alterado',
            self.sandbox.store.render_party(self.sandbox.store.party(
                    omie_id)))
        # delivered out of order: the newest first
        self.assertEqual(self.post(second).status_code, 200)
        self.assertEqual(self.post(first).status_code, 200)
        with self.transaction(readonly=True):
            self.assertEqual(self.party(omie_id).name, 'Segunda Ltda')
        self.assertEqual([e[1] for e in self.events()], ['done', 'done'])

        # a page read before the webhook, imported after it, is stale
        with self.transaction() as transaction:
            pool = Pool()
            Integration = pool.get('integration.integration')
            Run = pool.get('integration.sync.run')
            from novagestao_omie.sync import OmieSync
            integration = Integration(self.integration_id)
            run = Run(integration=integration, trigger='manual',
                start=dt.datetime.now())
            run.save()
            old = dict(first['event'], info=dict(
                    first['event'].get('info') or {},
                    dAlt='01/01/2020', hAlt='00:00:00'))
            old['razao_social'] = 'Antiga Ltda'
            sync = OmieSync(integration, run, client=object())
            step, = [s for s in sync.steps() if s.entity == 'party']
            sync.import_records(step, [old])
            transaction.commit()
        with self.transaction(readonly=True):
            self.assertEqual(self.party(omie_id).name, 'Segunda Ltda')

    def test_failure_is_retried_with_backoff_then_by_the_user(self):
        self.sync()
        omie_id = self.sandbox.dataset.parties[2]['codigo_cliente_omie']
        self.sandbox.configure(fail_next=['server'] * 10)
        self.sandbox.store.update_party(
            self.sandbox.store.party(omie_id), {'razao_social': 'Depois Ltda'})
        before = dt.datetime.utcnow()
        self.post(self.message('ClienteFornecedor.Alterado',
                {'codigo_cliente_omie': omie_id}))
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            event, = Event.search([('integration', '=', self.integration_id)])
            self.assertEqual(event.state, 'pending')
            self.assertEqual(event.attempts, 1)
            self.assertTrue(event.error)
            self.assertNotIn(Sandbox.DEFAULT_APP_SECRET, event.error)
            self.assertGreater(
                event.next_attempt, before + dt.timedelta(seconds=25))
            self.assertNotEqual(self.party(omie_id).name, 'Depois Ltda')
            event_id = event.id

        # the cron leaves it until its time; the Retry button does not wait
        self.sandbox.configure(fail_next=[])
        with self.transaction() as transaction:
            Event = Pool().get('integration.webhook.event')
            Event.process_due()
            transaction.commit()
        self.assertEqual(self.events()[0][1], 'pending')
        with self.transaction() as transaction:
            Event = Pool().get('integration.webhook.event')
            Event.retry([Event(event_id)])
            transaction.commit()
        # no worker: the queued task runs as the dispatcher would
        self.run_queue()
        (_, state, _, error, _), = self.events()
        self.assertEqual(state, 'done')
        self.assertIsNone(error)
        with self.transaction(readonly=True):
            self.assertEqual(self.party(omie_id).name, 'Depois Ltda')

    def test_redundant_read_postpones_the_event(self):
        "Omie's 60-second rule makes the event wait, not fail"
        self.sync()
        omie_id = self.sandbox.dataset.parties[3]['codigo_cliente_omie']
        self.sandbox.configure(redundant_window=60)
        event = {'codigo_cliente_omie': omie_id}
        self.post(self.message('ClienteFornecedor.Alterado', event))
        self.post(self.message('ClienteFornecedor.Alterado', event))
        events = self.events()
        self.assertEqual([e[1] for e in events], ['done', 'pending'])
        self.assertRegex(events[1][3], r'\b6[01]\b')
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            waiting, = Event.search([
                    ('integration', '=', self.integration_id),
                    ('state', '=', 'pending'),
                    ])
            self.assertEqual(waiting.attempts, 0)


class WebhookBurstTestCase(WebhookCase):
    "Enough titles for a burst"
    sandbox_options = {'seed': 31, 'parties': 20, 'titles': 80,
        'movements': 0}

    def test_burst_is_read_with_lists(self):
        """A burst of events costs a few lists, not one read each; the
        events received after a list wait for Omie's minute, then one list"""
        self.map_categories()
        self.sync()
        self.sandbox.configure(redundant_window=60)
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            payables = sorted(i for i, invoice in invoices.items()
                if invoice.type == 'in'
                and invoice.state in {'posted', 'paid'})
            parties = sorted(
                int(p['codigo_cliente_omie'])
                for p in self.sandbox.dataset.parties)
        self.assertGreaterEqual(len(payables), 2 * BULK_MIN)
        first, second = payables[:BULK_MIN + 2], payables[BULK_MIN + 2:]
        second = second[:BULK_MIN]

        def change_titles(ids, text):
            for omie_id in ids:
                self.sandbox.change('payable', omie_id, observacao=text)
            return [self.message('Financas.ContaPagar.Alterado',
                    {'codigo_lancamento_omie': i}) for i in ids]

        def deliver(messages):
            "Store the deliveries, then let one task process them"
            with self.transaction() as transaction:
                Event = Pool().get('integration.webhook.event')
                events = Event.create([{
                            'integration': self.integration_id,
                            'message_id': m['messageId'],
                            'topic': m['topic'],
                            'payload': json.dumps(m),
                            'next_attempt': dt.datetime.utcnow(),
                            } for m in messages])
                transaction.commit()
            with self.transaction() as transaction:
                Event = Pool().get('integration.webhook.event')
                Event.process(Event.browse(events[:1]))
                transaction.commit()

        def calls(name):
            return sum(n for (_, call), n in self.sandbox.stats.items()
                if call == name)

        messages = change_titles(first, 'Rajada 1')
        for omie_id in parties[:BULK_MIN]:
            self.sandbox.change('party', omie_id,
                razao_social='Rajada %s Ltda' % omie_id)
            messages.append(self.message('ClienteFornecedor.Alterado',
                    {'codigo_cliente_omie': omie_id}))
        self.sandbox.reset_stats()
        deliver(messages)
        self.assertEqual({e[1] for e in self.events()}, {'done'})
        self.assertEqual(calls('ConsultarContaPagar'), 0)
        self.assertEqual(calls('ConsultarCliente'), 0)
        self.assertEqual(calls('ListarClientes'), 1)
        self.assertEqual(calls('ListarContasPagar'), 1)
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            for omie_id in first:
                self.assertIn('Rajada 1', invoices[omie_id].description)
            for omie_id in parties[:BULK_MIN]:
                self.assertEqual(self.party(omie_id).name,
                    'Rajada %s Ltda' % omie_id)

        # within the minute: the same list would be refused as redundant
        messages = change_titles(second, 'Rajada 2')
        deliver(messages)
        waiting = [e for e in self.events() if e[1] == 'pending']
        self.assertEqual(len(waiting), len(second))
        self.assertRegex(waiting[0][3], r'\b[1-6]?[0-9]\b')
        self.assertEqual(calls('ListarContasPagar'), 1)
        self.assertEqual(calls('ConsultarContaPagar'), 0)

        # the minute passed: one list applies them all
        webhook_bulk._reads.clear()
        self.sandbox.configure(redundant_window=0)
        with self.transaction() as transaction:
            Event = Pool().get('integration.webhook.event')
            pending = Event.search([
                    ('integration', '=', self.integration_id),
                    ('state', '=', 'pending')])
            self.assertEqual(
                {e.attempts for e in pending}, {0})
            Event.write(pending, {'next_attempt': dt.datetime.utcnow()})
            transaction.commit()
        with self.transaction() as transaction:
            Event = Pool().get('integration.webhook.event')
            Event.process_due()
            transaction.commit()
        self.run_queue()
        self.assertEqual({e[1] for e in self.events()}, {'done'})
        self.assertEqual(calls('ListarContasPagar'), 2)
        self.assertEqual(calls('ConsultarContaPagar'), 0)
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            for omie_id in second:
                self.assertIn('Rajada 2', invoices[omie_id].description)


@unittest.skipUnless(
    backend.name == 'postgresql', "concurrent requests need PostgreSQL")
class ConcurrentWebhookTestCase(WebhookCase):
    "Concurrent deliveries and syncs on a threaded server"

    def test_concurrent_duplicates_and_sync(self):
        self.sync()
        server = make_server('127.0.0.1', 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.shutdown)
        url = 'http://127.0.0.1:%s%s' % (
            server.server_port, ROUTE % (DB_NAME, self.token))
        created = self.omie_client().call('IncluirCliente',
            codigo_cliente_integracao='WH-2', razao_social='Concorrente Ltda',
            cnpj_cpf='11.444.777/0001-61')
        message = self.message(
            'ClienteFornecedor.Incluido',
            {'codigo_cliente_omie': created['codigo_cliente_omie']})
        statuses = []

        def send():
            statuses.append(requests.post(url, json=message).status_code)

        runs = []

        def sync():
            runs.append(OmieEndToEndTestCase.sync(self)[0])

        threads = [threading.Thread(target=send) for _ in range(8)]
        threads.append(threading.Thread(target=sync))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(statuses, [200] * 8)
        self.assertIn(runs, [['done'], ['partial']])
        # an event that met the live sync waited for it: the end of the
        # sync queued it at once (no worker here: run it as one would)
        self.run_queue()
        (_, state, _, error, result), = self.events()
        self.assertEqual(state, 'done', (error, result))
        with self.transaction(readonly=True):
            Party = Pool().get('party.party')
            self.assertEqual(Party.search_count(
                    [('name', '=', 'Concorrente Ltda')]), 1)
