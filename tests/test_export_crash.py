# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""End-to-end: an export killed (kill -9) after Omie stored a write and
before Tryton committed it, run again: Omie holds exactly one of each record

The export runs in a real child process (tests/export_child.py), the Omie
sandbox here, whose store the test reads."""
import json
import signal

from .children import ChildProcessCase
from .export_child import SUPPLIERS


class ExportCrashTestCase(ChildProcessCase):
    child_module = 'tests.export_child'
    sandbox_seed = 43

    def test_killed_exports_send_each_record_once(self):
        "Killed after a party, a title and a payment were stored in Omie"
        database = self.new_database('export', 'killed')
        prepared = self.child(database, 'prepare', self.server.url,
            stdin=json.dumps(self.categories))
        invoice_ids = prepared['invoices']
        self.assertEqual(len(invoice_ids), SUPPLIERS)
        store = self.sandbox.store
        prefix = 'NG%d-' % prepared['integration']

        def ours(codes):
            return sorted(c for c in codes if c and c.startswith(prefix))

        for die_at in ['UpsertCliente:2', 'UpsertContaPagar:2',
                'LancarPagamento:1']:
            returncode = self.child(database, 'export', die_at, kill=True)
            self.assertEqual(returncode, -signal.SIGKILL, die_at)
        run = self.child(database, 'export')
        self.assertEqual((run['state'], run['errors']), ('done', []), run)

        parties = ours(p.get('codigo_cliente_integracao')
            for p in store.parties)
        titles = ours(r.code for r in store.titles['CP'])
        settlements = ours(s.get('codigo_baixa_integracao')
            for s in store.settlements)
        self.assertEqual(len(parties), SUPPLIERS)
        self.assertEqual(len(set(parties)), SUPPLIERS)
        self.assertEqual(titles, sorted(
                '%sCP-%d' % (prefix, i) for i in invoice_ids))
        self.assertEqual(len(settlements), SUPPLIERS)
        self.assertEqual(len(set(settlements)), SUPPLIERS)
        for row in store.titles['CP']:
            if row.code in titles:
                self.assertLessEqual(row.open_amount, 0.01, row.code)

        # every record is bound once; the next runs send and create nothing
        counts = self.child(database, 'count')
        self.assertEqual(len(counts['exported']['party']), SUPPLIERS)
        self.assertEqual(len(counts['exported']['payable']), SUPPLIERS)
        self.assertEqual(len(counts['exported']['settlement']), SUPPLIERS)
        run = self.child(database, 'import')
        for entity in ['party', 'payable', 'settlement']:
            self.assertEqual(run['summary'].get(entity, {}).get(
                    'created', 0), 0, entity)
            self.assertEqual(run['summary'].get(entity, {}).get(
                    'exported', 0), 0, entity)
        counts = self.child(database, 'count')
        self.assertEqual(counts['parties'], SUPPLIERS)
        self.assertEqual([state for _, state in counts['invoices']],
            ['paid'] * SUPPLIERS)
        self.assertEqual(len(ours(p.get('codigo_cliente_integracao')
                    for p in store.parties)), SUPPLIERS)
