# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""End-to-end on PostgreSQL: users post invoices while a first sync runs

The sync runs in a thread of its own, as a worker would; a user of the
synchronised company and a user of another company post invoices meanwhile,
each posting served as trytond's dispatcher serves a request (restarted with
the locks it asks for, retried on a lock conflict) and asked again when the
request fails, as a user clicks again: every posting succeeds, and those of
the other company never meet a lock of the sync."""
import threading
import unittest

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME

from novagestao_integrations_base.tests.tools import (
    create_brazilian_company, run_committed)
from novagestao_omie.tests.tools import SANDBOX_TODAY

from .posting import Poster, create_draft_invoices, post_invoice
from .tools import OmieEndToEndTestCase

POSTINGS = 6


@unittest.skipIf(backend.name == 'sqlite',
    "SQLite lets one transaction write at a time: postings beside a sync "
    "wait for the database, not for the sync's locks (run on PostgreSQL)")
class PostingBesideSyncTestCase(OmieEndToEndTestCase):
    sandbox_options = {'parties': 40, 'titles': 400, 'movements': 40}

    def map_categories(self):
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        targets = {}
        for kind in ['revenue', 'expense']:
            sibling, = Account.search([
                    ('type.%s' % kind, '=', True),
                    ('company', '=', self.company_id),
                    ], order=[('id', 'ASC')], limit=1)
            targets[kind] = Account(
                name='Omie concurrency %s' % kind, type=sibling.type,
                parent=sibling.parent, company=self.company_id)
            targets[kind].save()
        Mapping.save([Mapping(
                    integration=self.integration_id,
                    external_code=c['codigo'], external_name=c['descricao'],
                    target=targets[
                        'revenue' if c['conta_receita'] == 'S'
                        else 'expense'],
                    state='confirmed')
                for c in self.sandbox.dataset.categories
                if c['totalizadora'] != 'S' and c['transferencia'] != 'S'])

    def posted_titles(self):
        with self.transaction(readonly=True):
            Binding = Pool().get('integration.binding')
            return Binding.search_count([
                    ('integration', '=', self.integration_id),
                    ('kind', 'in', ['payable', 'receivable']),
                    ])

    def test_users_post_beside_a_first_sync(self):
        other_company = run_committed(
            DB_NAME, lambda: create_brazilian_company(
                name="Outra Empresa Ltda", today=SANDBOX_TODAY).id)
        with self.transaction() as transaction:
            self.map_categories()
            # users post beside the titles' posting: the settlements and
            # statements after it would only lengthen the run
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'filter_entities': [
                        'category', 'bank_account', 'party', 'payable',
                        'receivable'],
                    })
            transaction.commit()
        drafts = {}
        for company in [self.company_id, other_company]:
            context = {'company': company, 'companies': [company]}
            first, *drafts[company] = run_committed(
                DB_NAME, lambda: create_draft_invoices(
                    company, POSTINGS + 1, "Cliente %d" % company),
                context=context)
            # A company at work has posted in the month already: its
            # journal period exists (Tryton locks the table of journal
            # periods, shared by every company, to create one).
            run_committed(DB_NAME, lambda: post_invoice(first),
                context=context)

        outcome = {}

        def sync():
            try:
                outcome['sync'] = self.sync()
            except Exception as exception:  # reported by the test
                outcome['sync'] = exception
        syncing = threading.Thread(target=sync, daemon=True)
        syncing.start()
        while not self.posted_titles():
            self.assertTrue(syncing.is_alive(), outcome.get('sync'))
            syncing.join(0.2)

        posters = [
            Poster(DB_NAME, 0, company, drafts[company], pause=0.2)
            for company in [self.company_id, other_company]]
        for poster in posters:
            poster.start()
        for poster in posters:
            poster.join(600)
        overlapped = syncing.is_alive()
        syncing.join(900)

        state, summary, errors = outcome['sync']
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            message = Integration(self.integration_id).runs[0].message
        self.assertIn(state, {'done', 'partial'}, message)
        self.assertGreater(summary['payable']['created'], 0)
        self.assertTrue(overlapped, "the sync ended before the users")
        for poster in posters:
            self.assertEqual(len(poster.numbers), POSTINGS)
        # the sync locks the sequences of its own company only
        self.assertEqual(posters[1].errors, [])
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            for company, ids in drafts.items():
                self.assertEqual(
                    {i.state for i in Invoice.browse(ids)}, {'posted'})
