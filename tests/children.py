# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Tests whose syncs run in real child processes (tests/sync_child.py,
tests/export_child.py), each on a database of its own, so that a test can
kill one with SIGKILL half-way

The databases are SQLite files in a temporary folder (an in-memory database
cannot be shared with a child), or PostgreSQL databases.  The Omie sandbox
runs in the test's process, which reads its store directly."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

from novagestao_omie.tests.tools import start_sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE_SIZE = 10
TIMEOUT = 900


def backend_name():
    return os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://').split(':')[0]


class ChildProcessCase(unittest.TestCase):
    "Child processes on databases of their own, and the sandbox they call"
    child_module = None  # 'tests.sync_child'
    sandbox_seed = 41
    sandbox_size = {}  # parties, titles, movements of start_sandbox

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox, cls.server = start_sandbox(
            seed=cls.sandbox_seed, **cls.sandbox_size)
        cls.folder = tempfile.mkdtemp(prefix='children-')
        cls.databases = []
        cls.categories = [
            (c['codigo'], c['descricao'], c['conta_receita'] == 'S')
            for c in cls.sandbox.dataset.categories
            if c['totalizadora'] != 'S' and c['transferencia'] != 'S']

    @classmethod
    def tearDownClass(cls):
        try:
            if backend_name() != 'sqlite':
                for database in cls.databases:
                    cls.child(database, 'drop')
        finally:
            cls.server.shutdown()
            shutil.rmtree(cls.folder, ignore_errors=True)
            super().tearDownClass()

    @classmethod
    def new_database(cls, prefix, name):
        "The name of a new database of the test, dropped at its end"
        if backend_name() == 'sqlite':
            database = '%s_%s' % (prefix, name)
        else:
            database = 'test_%s_%s_%s' % (prefix, os.getpid(), name)
        cls.databases.append(database)
        return database

    @classmethod
    def env(cls, database):
        env = dict(os.environ)
        env['DB_NAME'] = database
        env['TRYTOND_DATABASE__PATH'] = cls.folder
        env['TRYTOND_NOVAGESTAO_OMIE__PAGE_SIZE'] = str(PAGE_SIZE)
        env.setdefault('TRYTOND_EMAIL__FROM', 'tryton@localhost')
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, [ROOT, env.get('PYTHONPATH')]))
        return env

    @classmethod
    def child(cls, database, *args, stdin=None, kill=False):
        """Run a command of the child module on the database; return its
        JSON output, or with kill=True kill it with SIGKILL when it asks"""
        with tempfile.TemporaryFile('w+') as err:
            process = subprocess.Popen(
                [sys.executable, '-m', cls.child_module, *args],
                cwd=ROOT, env=cls.env(database), text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
            timer = threading.Timer(TIMEOUT, process.kill)
            timer.start()
            try:
                if stdin is not None:
                    process.stdin.write(stdin)
                process.stdin.close()
                if kill:
                    line = process.stdout.readline()
                    if line.strip() == 'KILL-ME':
                        os.kill(process.pid, signal.SIGKILL)
                        process.wait()
                        return process.returncode
                output = process.stdout.read()
                process.wait()
            finally:
                timer.cancel()
                process.stdout.close()
            if process.returncode or kill:
                err.seek(0)
                raise AssertionError(
                    "%s %s ended with %s:\n%s\n%s" % (
                        database, ' '.join(args), process.returncode,
                        output[-2000:], err.read()[-6000:]))
        return json.loads(output.strip().splitlines()[-1])


class SyncChildCase(ChildProcessCase):
    "Syncs in tests/sync_child.py on databases set up alike"
    child_module = 'tests.sync_child'
    database_prefix = None  # 'resume'

    @classmethod
    def prepare(cls, name):
        "A new database with the company, the integration and its mappings"
        database = cls.new_database(cls.database_prefix, name)
        cls.child(database, 'setup', cls.server.url,
            stdin=json.dumps(cls.categories))
        return database
