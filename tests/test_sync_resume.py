# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""End-to-end: a sync killed half-way (kill -9) and run again ends with
exactly the database of an uninterrupted sync

Each sync runs in a real child process (tests/sync_child.py) on a database
of its own, restored from trytond's test database cache: SQLite files in a
temporary folder (an in-memory database cannot be shared with a child), or
PostgreSQL databases.  The child is killed from here with SIGKILL while a
page is imported and not yet committed.  With RESUME_DEBUG=<folder>, the
snapshots compared are written there as JSON."""
import json
import os
import signal
import sys
import time

from .children import SyncChildCase


class SyncResumeTestCase(SyncChildCase):
    "A killed sync resumes into the database of an uninterrupted one"
    database_prefix = 'resume'
    sandbox_seed = 41

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the reference: one sync that nothing interrupts
        cls.reference_db = cls.prepare('reference')
        cls.reference_run = cls.child(cls.reference_db, 'sync')
        cls.reference = cls.child(cls.reference_db, 'snapshot')

    def kill_and_resume(self, die_at):
        """Kill a sync while it imports the page die_at ('entity:page'),
        check what it committed, run it again; return the snapshot"""
        entity = die_at.split(':')[0]
        database = self.prepare(die_at.replace(':', '_'))
        start = time.monotonic()
        returncode = self.child(database, 'sync', die_at, kill=True)
        self.assertEqual(returncode, -signal.SIGKILL)

        # what the killed run committed: the pages before, not this one
        killed = self.child(database, 'snapshot')
        self.assertEqual(killed['runs'], [['running', None, True]])
        kinds = [b[0] for b in killed['bindings']]
        expected = [b[0] for b in self.reference['bindings']]
        self.assertTrue(0 < kinds.count(entity) < expected.count(entity),
            (kinds.count(entity), expected.count(entity)))

        # its errors were recorded by the killed run: it may be done
        run = self.child(database, 'sync')
        self.assertIn(run['state'], {'done', 'partial'})
        resumed = self.child(database, 'snapshot')
        if os.environ.get('RESUME_DEBUG'):
            for name, value in [('resumed', resumed),
                    ('reference', self.reference)]:
                with open(os.path.join(os.environ['RESUME_DEBUG'],
                            '%s-%s.json' % (die_at, name)), 'w') as f:
                    json.dump(value, f, indent=1)
        print("\n%s: killed and resumed in %.1f s" % (
                die_at, time.monotonic() - start), file=sys.stderr)
        return resumed

    def assert_same_database(self, resumed):
        reference = self.reference
        for key in sorted(reference):
            if key == 'runs':
                continue
            self.assertEqual(resumed[key], reference[key], key)
        # the killed run is marked interrupted by the next one
        (killed_state, message, _), (state, _, _) = resumed['runs']
        self.assertEqual(killed_state, 'failed')
        self.assertTrue(message.startswith("Interrupted:"), message)
        self.assertIn(state, {'done', 'partial'})

    def assert_no_duplicate(self, snapshot):
        bindings = snapshot['bindings']
        titles = [b for b in bindings if b[0] in {'payable', 'receivable'}]
        self.assertTrue(titles)
        self.assertEqual(len(titles), len(snapshot['invoices']))
        self.assertEqual(
            len({tuple(map(str, b[2])) for b in titles}), len(titles))
        settlements = [b for b in bindings if b[0] == 'settlement']
        self.assertTrue(settlements)
        self.assertEqual(
            len({str(b[2]) for b in settlements}), len(settlements))
        self.assertEqual(len(settlements), len([m for m in snapshot['moves']
                    if (m[4] or '').startswith('Omie settlement')]))
        numbers = snapshot['move_numbers']
        self.assertEqual(len(set(map(tuple, numbers))), len(numbers))

    def test_reference(self):
        "The uninterrupted sync imports everything once"
        self.assert_no_duplicate(self.reference)
        self.assertEqual(self.reference['runs'], [
                [self.reference_run['state'], None, True]])
        self.assertTrue(self.reference['statements'])
        for entity in ['party', 'payable', 'receivable', 'settlement']:
            self.assertIn(entity, self.reference['cursors'])

    def test_killed_importing_payables(self):
        "Killed while a page of payables is imported, not committed"
        resumed = self.kill_and_resume('payable:2')
        self.assert_same_database(resumed)
        self.assert_no_duplicate(resumed)

    def test_killed_posting_settlements(self):
        "Killed while a page of settlements is posted, not committed"
        resumed = self.kill_and_resume('settlement:3')
        self.assert_same_database(resumed)
        self.assert_no_duplicate(resumed)
