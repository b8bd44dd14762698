# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Sync now: queue a run and say so at once, or say which run is live and
offer to queue one after it"""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import IntegrationError


class SyncNowMessage(ModelView):
    "Sync Now"
    __name__ = 'integration.sync_now.message'

    message = fields.Text("Message", readonly=True)


class SyncNow(Wizard):
    "Sync Now"
    __name__ = 'integration.sync_now'

    start = StateTransition()
    started = StateView(
        'integration.sync_now.message',
        'novagestao_integrations_base.sync_now_message_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])
    live = StateView(
        'integration.sync_now.message',
        'novagestao_integrations_base.sync_now_message_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Queue After It", 'queue', 'tryton-forward',
                default=True),
            ])
    queue = StateTransition()
    queued = StateView(
        'integration.sync_now.message',
        'novagestao_integrations_base.sync_now_message_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def check(self):
        integration = self.record
        integration.check_connector()
        if integration.status == 'disabled':
            raise IntegrationError(gettext(
                    'novagestao_integrations_base.msg_integration_disabled',
                    integration=integration.rec_name))

    def live_run(self):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        return Run.live_run(self.record)

    def transition_start(self):
        pool = Pool()
        Integration = pool.get('integration.integration')
        self.check()
        if self.live_run():
            return 'live'
        Integration.enqueue_sync([self.record], 'manual')
        return 'started'

    def default_started(self, fields):
        return {'message': gettext(
                'novagestao_integrations_base.msg_sync_started',
                integration=self.record.rec_name)}

    def default_live(self, fields):
        run = self.live_run()
        if not run:
            return {'message': gettext(
                    'novagestao_integrations_base.msg_sync_live_ended')}
        return {'message': gettext(
                'novagestao_integrations_base.msg_sync_live',
                since=self.record.local_time(run.start).strftime(
                    '%d/%m/%Y %H:%M'),
                run=run.id)}

    def transition_queue(self):
        pool = Pool()
        Integration = pool.get('integration.integration')
        self.check()
        if not self.live_run():
            # it ended meanwhile
            Integration.enqueue_sync([self.record], 'manual')
            return 'started'
        # the run's process runs it when the live run ends
        Integration.lock([self.record])
        Integration.write([self.record], {
                'queued_trigger': 'manual',
                'queued_by': Transaction().user or None,
                })
        return 'queued'

    def default_queued(self, fields):
        return {'message': gettext(
                'novagestao_integrations_base.msg_sync_queued')}
