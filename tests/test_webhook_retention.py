# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Retention: old finished webhook events and sync runs are purged"
import datetime as dt

from freezegun import freeze_time

from trytond.pool import Pool

from novagestao_integrations_base.retention import (
    DEFAULT_RETENTION_DAYS, retention_days)

from .tools import OmieEndToEndTestCase

EVENT_STATES = ['pending', 'processing', 'done', 'ignored', 'failed',
    'rejected']


class RetentionTestCase(OmieEndToEndTestCase):

    def create(self, received_at):
        """Create an event of each state, and finished runs with and without
        an open error, at received_at; return {name: (model, id)}"""
        with self.transaction() as transaction:
            pool = Pool()
            Event = pool.get('integration.webhook.event')
            Run = pool.get('integration.sync.run')
            Error = pool.get('integration.sync.error')
            stamp = received_at.isoformat()
            events = Event.create([{
                        'integration': self.integration_id,
                        'message_id': '%s-%s' % (state, stamp),
                        'topic': 'Categoria.Alterada',
                        'state': state,
                        'received_at': received_at,
                        'payload': '{}',
                        } for state in EVENT_STATES])
            runs = Run.create([{
                        'integration': self.integration_id,
                        'trigger': 'webhook', 'state': state,
                        'start': received_at,
                        'end': (received_at + dt.timedelta(minutes=1)
                            if state != 'running' else None),
                        } for state in ['done', 'partial', 'failed',
                        'partial', 'done', 'running']])
            Error.create([{
                        'integration': self.integration_id, 'run': run.id,
                        'entity': 'party', 'external_id': str(run.id),
                        'kind': 'validation', 'message': 'x',
                        'resolved': resolved,
                        } for run, resolved in [
                        (runs[1], True), (runs[3], False),
                        (runs[4], False), (runs[4], True)]])
            created = {
                'event ' + e.state: ('integration.webhook.event', e.id)
                for e in events}
            for name, run in zip(['run done', 'run partial, errors resolved',
                        'run failed', 'run with an open error',
                        'run with an open and a resolved error',
                        'run running'], runs):
                created[name] = ('integration.sync.run', run.id)
            transaction.commit()
        return created

    def existing(self, created):
        with self.transaction(readonly=True):
            pool = Pool()
            return {name for name, (model, id_) in created.items()
                if pool.get(model).search([('id', '=', id_)])}

    def purge(self, **kwargs):
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            result = Integration.purge_old_records(**kwargs)
            transaction.commit()
            return result

    def test_purge_keeps_what_is_still_to_do(self):
        self.assertEqual(retention_days(), DEFAULT_RETENTION_DAYS)
        start = dt.datetime(2026, 1, 5, 12, 0)
        old = self.create(start)
        recent = self.create(start + dt.timedelta(days=60))
        kept = {'event pending', 'event processing', 'event failed',
            'run with an open error', 'run with an open and a resolved error',
            'run running'}

        # 89 days on: nothing is old enough yet
        with freeze_time(start + dt.timedelta(days=89)):
            self.assertEqual(self.purge(), (0, 0))
        self.assertEqual(self.existing(old), set(old))

        # 91 days on, in batches of 2 each committed
        with freeze_time(start + dt.timedelta(days=91)):
            self.assertEqual(self.purge(batch=2), (3, 3))
        self.assertEqual(self.existing(old), kept)
        self.assertEqual(self.existing(recent), set(recent))
        with self.transaction(readonly=True):
            Error = Pool().get('integration.sync.error')
            # the open errors and their runs stay; a purged run's resolved
            # error loses its run only
            self.assertEqual(Error.search_count([
                        ('integration', '=', self.integration_id),
                        ('resolved', '=', False),
                        ('run', '!=', None)]), 4)
            self.assertEqual(Error.search_count([
                        ('integration', '=', self.integration_id),
                        ('resolved', '=', True),
                        ('run', '=', None)]), 1)

        # once resolved, the error lets its run go
        with self.transaction() as transaction:
            Error = Pool().get('integration.sync.error')
            Error.write(Error.search([
                        ('integration', '=', self.integration_id)]),
                {'resolved': True})
            transaction.commit()
        with freeze_time(start + dt.timedelta(days=160)):
            # the two old runs, and everything finished of day 60
            self.assertEqual(self.purge(), (3, 7))
        self.assertEqual(self.existing(old), kept - {
                'run with an open error',
                'run with an open and a resolved error'})
        self.assertEqual(self.existing(recent), {
                'event pending', 'event processing', 'event failed',
                'run running'})

        # a shorter retention, as trytond.conf may set it
        self.create(start + dt.timedelta(days=150))
        with freeze_time(start + dt.timedelta(days=160)):
            self.assertEqual(self.purge(days=5), (3, 3))

    def test_cron_task_is_registered(self):
        with self.transaction(readonly=True):
            pool = Pool()
            Cron = pool.get('ir.cron')
            ModelData = pool.get('ir.model.data')
            cron = Cron(ModelData.get_id(
                    'novagestao_integrations_base', 'cron_purge_old_records'))
            self.assertEqual(
                cron.method, 'integration.integration|purge_old_records')
            self.assertEqual(cron.interval_type, 'days')
