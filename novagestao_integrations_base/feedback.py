# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The answers of the buttons that work at once: each opens a small wizard
that does the work first and then tells the user what it did

The classmethods they call stay callable from code."""
from collections import Counter

from trytond.i18n import gettext, ngettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .mapping_wizard import DEFAULT_THRESHOLD
from .sync import hide_when_empty

# How many pending records the answer of a retry names one by one
LISTED_PENDING = 5


class Message(ModelView):
    "Integration Message"
    __name__ = 'integration.message'

    message = fields.Text("Message", readonly=True)


def _rename_button(cls, old, new):
    "Make the button old of cls open the wizard method new instead"
    cls._buttons[new] = cls._buttons.pop(old)


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        _rename_button(cls, 'test_connection', 'test_connection_wizard')
        _rename_button(cls, 'suggest_mappings', 'suggest_mappings_wizard')

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + hide_when_empty('last_error') + [
            ('/tree', 'visual', If(Eval('status') == 'error', 'danger',
                    If(Eval('status') == 'disabled', 'muted', ''))),
            ]

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_test_connection')
    def test_connection_wizard(cls, integrations):
        pass

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_suggest_mappings')
    def suggest_mappings_wizard(cls, integrations):
        pass


class SyncError(metaclass=PoolMeta):
    __name__ = 'integration.sync.error'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        _rename_button(cls, 'retry', 'retry_wizard')

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_retry_errors')
    def retry_wizard(cls, errors):
        pass


class WebhookEvent(metaclass=PoolMeta):
    __name__ = 'integration.webhook.event'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        _rename_button(cls, 'retry', 'retry_wizard')

    @classmethod
    def view_attributes(cls):
        return (super().view_attributes()
            + hide_when_empty('result') + hide_when_empty('error') + [
                ('/tree', 'visual',
                    If(Eval('state').in_(['failed', 'rejected']), 'danger',
                        If(Eval('state') == 'ignored', 'muted', ''))),
                ])

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_retry_webhook_events')
    def retry_wizard(cls, events):
        pass


class _Answer(Wizard):
    "Do the work in start, then show the message it set"
    start = StateTransition()
    answer = StateView('integration.message',
        'novagestao_integrations_base.message_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_start(self):
        self.answer.message = self.work()
        return 'answer'

    def work(self):
        "Do the work on self.records and return what the user reads"
        raise NotImplementedError

    def default_answer(self, fields):
        return {'message': self.answer.message}


class TestConnection(_Answer):
    "Test Connection"
    __name__ = 'integration.test_connection'

    def work(self):
        pool = Pool()
        Integration = pool.get('integration.integration')
        return '\n'.join(m for m in Integration.test_connection(self.records)
            if m)


class SuggestMappings(_Answer):
    "Suggest Mappings"
    __name__ = 'integration.suggest_mappings'

    def work(self):
        pool = Pool()
        Integration = pool.get('integration.integration')
        Mapping = pool.get('integration.mapping')
        suggested = Integration.suggest_mappings(self.records)
        without = Mapping.search_count([
                ('integration', 'in', [r.id for r in self.records]),
                ('state', 'in', ['unmapped', 'rejected']),
                ('target', '=', None),
                ])
        return gettext(
            'novagestao_integrations_base.msg_suggest_answer',
            count=len(suggested),
            above=sum(1 for m in suggested
                if (m.score or 0) >= DEFAULT_THRESHOLD),
            threshold=DEFAULT_THRESHOLD,
            without=without)


class RetryErrors(_Answer):
    "Retry Sync Errors"
    __name__ = 'integration.sync.error.retry'

    def work(self):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        errors = [e for e in self.records if not e.resolved]
        if not errors:
            return gettext(
                'novagestao_integrations_base.msg_retry_nothing_pending')
        Error.retry(errors)
        errors = Error.browse([e.id for e in errors])
        resolved = [e for e in errors if e.resolved]
        pending = [e for e in errors if not e.resolved]
        lines = [', '.join([
                    ngettext('novagestao_integrations_base.msg_retry_resolved',
                        len(resolved), count=len(resolved)),
                    ngettext('novagestao_integrations_base.msg_retry_pending',
                        len(pending), count=len(pending))])]
        if pending:
            kinds = Counter(e.kind_string for e in pending)
            lines.append(', '.join(
                    '%s: %d' % (kind, count)
                    for kind, count in kinds.most_common()))
            lines.extend('- %s' % e.rec_name
                for e in pending[:LISTED_PENDING])
            if len(pending) > LISTED_PENDING:
                lines.append(gettext(
                        'novagestao_integrations_base.msg_retry_more',
                        count=len(pending) - LISTED_PENDING))
            lines.append(gettext(
                    'novagestao_integrations_base.msg_retry_next_run'))
        return '\n'.join(lines)


class RetryWebhookEvents(_Answer):
    "Retry Webhook Events"
    __name__ = 'integration.webhook.event.retry'

    def work(self):
        pool = Pool()
        Event = pool.get('integration.webhook.event')
        events = list(self.records)
        retried = [e for e in events if e.state in {'pending', 'failed'}]
        Event.retry(retried)
        skipped = len(events) - len(retried)
        answer = [ngettext(
                'novagestao_integrations_base.msg_webhook_retry_queued',
                len(retried), count=len(retried))]
        if skipped:
            answer.append(ngettext(
                    'novagestao_integrations_base.msg_webhook_retry_skipped',
                    skipped, count=skipped))
        return ' '.join(answer)
