# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""End-to-end on PostgreSQL: a first sync whose title chunks a real
trytond-worker builds beside the run ends with the database of a sync
alone, and a run killed while it posts them is resumed into it

Each sync runs in a child process (tests/sync_child.py) on a database of
its own; the worker is trytond-worker itself, started on that database with
one process ([queue] worker on, [integration] import_workers = 2)."""
import os
import signal
import subprocess
import sys
import tempfile
import unittest

from .children import SyncChildCase, backend_name
from .processes import stop_process_group

WORKERS = 2
PAGE_SIZE = 20


def without_numbers(snapshot):
    """The snapshot without what the order of posting decides: the numbers
    of the supplier invoices and of the moves (strict sequences that the
    run takes as the chunks come, built by whichever process was free)"""
    def invoice(row):
        return row[:1] + row[2:10] + row[12:]

    def numberless(record):
        # an invoice's or a move's number sits third in its natural key,
        # a move line's or a statement line's move or statement second
        if not isinstance(record, list) or not record:
            return record
        if record[0] in {'account.invoice', 'account.move'}:
            return record[:2] + record[3:]
        return [numberless(value) for value in record]

    def binding(row):
        return [row[0], row[1], numberless(row[2])] + row[3:]

    def move(row):
        return [row[0], row[2], row[3], row[4], row[6]]
    return {
        'bindings': sorted(map(binding, snapshot['bindings']), key=repr),
        'invoices': sorted(map(invoice, snapshot['invoices']), key=repr),
        'moves': sorted(map(move, snapshot['moves']), key=repr),
        'statements': snapshot['statements'],
        'cursors': snapshot['cursors'],
        'errors': snapshot['errors'],
        'parties': snapshot['parties'],
        'reconciliations': snapshot['reconciliations'],
        }


@unittest.skipIf(backend_name() == 'sqlite',
    "queue workers run beside a sync on PostgreSQL only")
class SyncWorkersTestCase(SyncChildCase):
    "Title chunks built by a trytond-worker beside the run"
    database_prefix = 'workers'
    sandbox_seed = 43
    sandbox_size = {'parties': 12, 'titles': 60, 'movements': 16}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workers = []
        cls.reference_db = cls.prepare('alone')
        cls.reference_run = cls.child(cls.reference_db, 'sync')
        cls.reference = cls.child(cls.reference_db, 'snapshot')

    @classmethod
    def tearDownClass(cls):
        for process, log in cls.workers:
            stop_process_group(process)
            log.close()
        super().tearDownClass()

    @classmethod
    def env(cls, database):
        env = super().env(database)
        env['TRYTOND_NOVAGESTAO_OMIE__PAGE_SIZE'] = str(PAGE_SIZE)
        if database != getattr(cls, 'reference_db', database):
            env['TRYTOND_QUEUE__WORKER'] = 'True'
            env['TRYTOND_INTEGRATION__IMPORT_WORKERS'] = str(WORKERS)
        return env

    def start_worker(self, database):
        "Start trytond-worker on the database, with one process"
        env = self.env(database)
        env['TRYTOND_DATABASE__URI'] = os.environ['TRYTOND_DATABASE_URI']
        log = tempfile.TemporaryFile('w+')
        # a session of its own: its pool's processes are stopped with it
        process = subprocess.Popen([
                os.path.join(os.path.dirname(sys.executable),
                    'trytond-worker'),
                '-d', database, '-n', str(WORKERS - 1), '--name',
                'integration'],
            env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.workers.append((process, log))
        self.addCleanup(stop_process_group, process)
        return process

    def assert_same_books(self, snapshot):
        self.assertEqual(
            without_numbers(snapshot), without_numbers(self.reference))
        # every number once, as many as alone
        numbers = [tuple(n) for n in snapshot['move_numbers']]
        self.assertEqual(len(set(numbers)), len(numbers))
        self.assertEqual(len(numbers), len(self.reference['move_numbers']))
        # the supplier invoices take the same numbers of their sequence
        self.assertEqual(
            sorted(str(i[1]) for i in snapshot['invoices'] if i[0] == 'in'),
            sorted(str(i[1]) for i in self.reference['invoices']
                if i[0] == 'in'))

    def test_worker_builds_beside_the_run(self):
        "A worker builds chunks, the run posts them all: the same books"
        database = self.prepare('shared')
        self.start_worker(database)
        run = self.child(database, 'sync')
        self.assertEqual(run['state'], self.reference_run['state'])
        self.assertEqual(run['summary'], self.reference_run['summary'])
        self.assert_same_books(self.child(database, 'snapshot'))

        chunks = self.child(database, 'chunks')
        self.assertTrue(chunks)
        # each chunk done, its records dropped, built by the run or the
        # worker: both built some
        self.assertEqual({c[1] for c in chunks}, {'done'})
        self.assertTrue(all(c[4] for c in chunks))
        self.assertEqual(
            {c[0] for c in chunks},
            {'payable', 'receivable', 'settlement', 'statement'})
        builders = {c[2] for c in chunks}
        self.assertEqual(len(builders), WORKERS, builders)
        # the chunks of a page of one chunk are not shared
        created = sum(c[3].get('created', 0) for c in chunks
            if c[0] in {'payable', 'receivable'})
        self.assertTrue(0 < created <= sum(
                self.reference_run['summary'][e]['created']
                for e in ['payable', 'receivable']), created)

    def test_killed_posting_shared_chunks(self):
        """Killed while it posts a chunk (of titles, then of settlements):
        the next run posts what was built"""
        database = self.prepare('killed')
        self.start_worker(database)
        returncode = self.child(database, 'sync', 'post:payable:2',
            kill=True)
        self.assertEqual(returncode, -signal.SIGKILL)
        left = self.child(database, 'chunks')
        self.assertIn('built', {c[1] for c in left})
        # the next run dies in turn, while it posts the settlements: their
        # payment moves are built in draft
        returncode = self.child(database, 'sync', 'post:settlement:2',
            kill=True)
        self.assertEqual(returncode, -signal.SIGKILL)
        left = self.child(database, 'chunks')
        self.assertIn(('settlement', 'built'), {tuple(c[:2]) for c in left})

        run = self.child(database, 'sync')
        self.assertIn(run['state'], {'done', 'partial'})
        resumed = self.child(database, 'snapshot')
        self.assert_same_books(resumed)
        self.assertEqual(
            {c[1] for c in self.child(database, 'chunks')}, {'done'})
