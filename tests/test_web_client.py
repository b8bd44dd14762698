# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The walk through every screen: trytond serves the Tryton web client (sao)
over a demo database on the backend under test, with the Omie sandbox
behind, and headless Chromium opens every menu entry of both modules (and
Tryton's party, invoice and statement lists) as a Brazilian user: the list,
the first record, every tab and every button that opens a wizard.  It fails
on a JavaScript error, an error dialog, a screen left on "Processando", a
list that holds records but draws none, and an English string of ours.

The screenshots land in var/webclient/<backend>/; with
NOVAGESTAO_DOCS_SCREENSHOTS=1 the README's pictures in docs/ are refreshed."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.request
import uuid


from novagestao_omie.omie import OmieClient
from novagestao_omie.omie.sandbox import Sandbox

from . import sao
from .processes import stop_process_group

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR = os.path.join(ROOT, 'var')
SAO_ROOT = os.path.join(VAR, 'sao', 'package')
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
BIN = os.path.dirname(sys.executable)
DOCS = os.path.join(ROOT, 'docs')
# sao's own strings reworded in Brazilian Portuguese by ./setup/sao
SAO_PT_BR = os.path.join(ROOT, 'setup', 'data', 'sao-pt_BR.json')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for(predicate, what, timeout, process=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError('%s: the process stopped\n%s' % (
                    what, tail(log)))
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError('Timed out waiting for %s\n%s' % (what, tail(log)))


def tail(path, lines=60):
    if not path or not os.path.exists(path):
        return ''
    with open(path, errors='replace') as file:
        return ''.join(file.readlines()[-lines:])


def http_json(url, data=None, timeout=30):
    request = urllib.request.Request(
        url, data=json.dumps(data).encode() if data is not None else None,
        headers={'Content-Type': 'application/json'},
        method='POST' if data is not None else 'GET')
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


class WebClient:
    """A demo database on the backend under test, the Omie sandbox and
    trytond serving sao, as ./setup/demo --serve runs them"""

    def __init__(self):
        self.uri = os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://')
        self.backend = self.uri.split(':', 1)[0]
        self.folder = os.path.join(VAR, 'webclient', self.backend)
        self.shots = os.path.join(self.folder, 'screenshots')
        self.database = 'webclient_%s' % uuid.uuid4().hex[:8]
        self.processes = []
        self.port = free_port()

    def run(self, command, what, timeout=900, **kwargs):
        log = os.path.join(self.folder, 'setup.log')
        with open(log, 'a') as output:
            output.write('\n$ %s\n' % ' '.join(command))
            output.flush()
            process = subprocess.run(
                command, stdout=output, stderr=subprocess.STDOUT,
                timeout=timeout, env=self.env(), cwd=ROOT, **kwargs)
        if process.returncode:
            raise AssertionError('%s failed (%s):\n%s' % (
                    what, process.returncode, tail(log)))

    def env(self):
        env = dict(os.environ)
        env.pop('TRYTOND_DATABASE_URI', None)
        env.pop('DB_CACHE', None)
        env.pop('DB_NAME', None)
        env['TRYTOND_CONFIG'] = self.config
        env['TRYTONPASSFILE'] = os.path.join(self.folder, 'admin-password')
        env.setdefault('PYTHONWARNINGS', 'ignore::DeprecationWarning')
        return env

    def start(self):
        # NOVAGESTAO_WEBCLIENT_KEEP=1 keeps the database for the next run,
        # which then only serves it and walks (to work on the screens)
        self.keep = bool(os.environ.get('NOVAGESTAO_WEBCLIENT_KEEP'))
        ready = os.path.join(self.folder, 'ready.json')
        if self.keep and os.path.exists(ready):
            with open(ready) as file:
                self.database = json.load(file)['database']
            shutil.rmtree(self.shots, ignore_errors=True)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
            ready = None
        os.makedirs(self.shots)
        self.config = os.path.join(self.folder, 'trytond.conf')
        with open(self.config, 'w') as file:
            file.write('[database]\nuri = %s\npath = %s\n'
                '[web]\nlisten = 127.0.0.1:%d\nroot = %s\n' % (
                    self.uri, self.folder, self.port, SAO_ROOT))
        with open(os.path.join(self.folder, 'admin-password'), 'w') as file:
            file.write('admin\n')
        self.start_sandbox()
        if not ready:
            self.create_database()
            self.run([sys.executable, os.path.join(ROOT, 'setup', 'demo.py'),
                    '--config', self.config, '--database', self.database,
                    '--sandbox', self.sandbox_url, '--changes', '6'],
                'the demo job')
        if self.keep:
            with open(os.path.join(self.folder, 'ready.json'), 'w') as file:
                json.dump({'database': self.database}, file)
        self.plan_path = os.path.join(self.folder, 'plan.json')
        self.run([sys.executable, os.path.join(ROOT, 'tests',
                    'webclient_plan.py'), '--config', self.config,
                '--database', self.database, '--plan', self.plan_path,
                '--sandbox', self.sandbox_url, '--webhooks'],
            'the plan of the walk')
        with open(self.plan_path) as file:
            self.plan = json.load(file)
        self.start_trytond()
        self.deliver_webhooks()

    def create_database(self):
        if self.backend == 'sqlite':
            open(os.path.join(
                    self.folder, self.database + '.sqlite'), 'w').close()
        else:
            import psycopg
            with psycopg.connect(self.uri.rstrip('/') + '/postgres',
                    autocommit=True) as connection:
                connection.execute('CREATE DATABASE "%s"' % self.database)
        admin = os.path.join(BIN, 'trytond-admin')
        self.run([admin, '-c', self.config, '-d', self.database, '--all',
                '--email', 'admin@example.com', '-l', 'pt'],
            'the creation of the database')
        # as ./setup/demo does: pt_BR comes with the base module
        self.run([admin, '-c', self.config, '-d', self.database,
                '-u', 'novagestao_omie', '--activate-dependencies',
                '-l', 'pt_BR'], 'the activation of the modules')

    def spawn(self, command, log_name, **environ):
        log = os.path.join(self.folder, log_name)
        output = open(log, 'w')
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT,
            env=dict(self.env(), **environ), cwd=ROOT,
            start_new_session=True)
        output.close()
        self.processes.append(process)
        return process, log

    def start_sandbox(self):
        url_file = os.path.join(self.folder, 'sandbox.url')
        if os.path.exists(url_file):
            os.remove(url_file)
        process, log = self.spawn([
                sys.executable, '-m', 'novagestao_omie.omie.sandbox',
                '--host', '127.0.0.1', '--port', '0', '--titles', '160',
                '--parties', '30', '--movements', '80',
                '--url-file', url_file], 'sandbox.log')

        def url():
            if os.path.exists(url_file):
                with open(url_file) as file:
                    return file.read().strip()
        self.sandbox_url = wait_for(url, 'the Omie sandbox', 120,
            process, log)

    def start_trytond(self):
        self.url = 'http://127.0.0.1:%d/' % self.port
        # Tasks a screen queues (Sync now) wait for a worker that the walk
        # does not run: it only looks at the screens.
        process, log = self.spawn([
                os.path.join(BIN, 'trytond'), '-c', self.config,
                '-d', self.database], 'trytond.log',
            TRYTOND_QUEUE__WORKER='True')
        self.trytond_log = log

        def serving():
            with urllib.request.urlopen(self.url, timeout=2) as response:
                return b'sao' in response.read().lower()
        wait_for(serving, 'trytond to serve the web client', 120,
            process, log)

    def deliver_webhooks(self):
        """Let the sandbox send Omie Connect events to trytond's route, so
        the inbox has deliveries to show"""
        token = self.plan['webhook_url'].rstrip('/').rsplit('/', 1)[1]
        url = '%s%s/novagestao_omie/webhook/%s' % (
            self.url, self.database, token)
        sandbox = self.sandbox_url.rstrip('/')
        http_json(sandbox + '/_sandbox/webhook', {'url': url})
        http_json(sandbox + '/_sandbox/ping', {})
        # a client renamed in Omie: Omie Connect sends its event
        client = OmieClient(Sandbox.DEFAULT_APP_KEY,
            Sandbox.DEFAULT_APP_SECRET, base_url=sandbox)
        party, = client.call('ListarClientes', pagina=1,
            registros_por_pagina=1)['clientes_cadastro']
        client.close()
        http_json(sandbox + '/_sandbox/change', {
                'entity': 'party', 'id': party['codigo_cliente_omie'],
                'changes': {
                    'razao_social': party['razao_social'] + ' (webhook)'},
                })
        http_json(sandbox + '/_sandbox/flush', {'timeout': 30})

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                stop_process_group(process, timeout=20)
        if self.backend != 'sqlite' and not self.keep:
            import psycopg
            with psycopg.connect(self.uri.rstrip('/') + '/postgres',
                    autocommit=True) as connection:
                connection.execute(
                    'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                    % self.database)


@unittest.skipUnless(os.path.exists(CHROMIUM),
    'Chromium is needed (./setup/test installs it)')
class WebClientTestCase(unittest.TestCase):
    "Every screen opens in the web client"

    def test_every_screen_opens(self):
        "Every menu entry, list, form, tab and wizard opens without error"
        self.assertTrue(os.path.exists(os.path.join(SAO_ROOT, 'index.html')),
            'the web client is missing: run ./setup/sao')
        server = WebClient()
        self.addCleanup(server.stop)
        server.start()
        with sao.Browser(CHROMIUM, width=1366, height=900) as browser:
            client = sao.Client(browser, server.shots)
            walk = sao.Walk(client, server.plan, server.url,
                server.database, server.shots)
            problems = walk.run()
            # a record nobody edits opens read-only: the last sync run,
            # from the History page of the integration
            run_buttons = walk.popup_buttons(
                'novagestao_integrations_base.menu_integration_form',
                'Histórico', 'last_run')
            with open(SAO_PT_BR, encoding='utf-8') as file:
                brazilian = json.load(file)
            # what the served web client says, in the user's language
            spoken = {msgid: client.js('Sao.i18n.gettext(%s)'
                    % json.dumps(msgid)) for msgid in brazilian}
        ours = [m for m in server.plan['menus'] if m['ours']]
        self.assertGreaterEqual(len(ours), 8, server.plan['menus'])
        self.assertEqual(problems, [],
            '\n'.join(problems) + '\n(screenshots: %s; trytond log: %s)\n%s'
            % (server.shots, server.trytond_log, tail(server.trytond_log)))
        for entry in server.plan['menus']:
            # a menu entry opens a list, a board (Dashboard) or a wizard
            # (Find Duplicates)
            screens = ({entry['xml_id'] + '-wizard'}
                if entry['action_type'] == 'ir.action.wizard'
                else {entry['xml_id'] + '-list', entry['xml_id'] + '-board'})
            self.assertTrue(screens & set(walk.screens), entry['xml_id'])
        # the dashboard is a board of graphs, and it opened
        self.assertIn(
            'novagestao_integrations_base.menu_dashboard-board', walk.screens)
        self.assertEqual(spoken, brazilian)
        self.assertEqual(run_buttons, ['Fechar'])
        if os.environ.get('NOVAGESTAO_DOCS_SCREENSHOTS'):
            walk.copy_docs_screenshots(DOCS)
