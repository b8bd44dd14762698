# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from zoneinfo import ZoneInfo

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from .exceptions import IntegrationError

DEFAULT_TIMEZONE = 'America/Sao_Paulo'
SCHEDULE_INTERVALS = {
    'every_6_hours': dt.timedelta(hours=6),
    }


def utcnow():
    "Return the current time as Tryton stores it: naive UTC"
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Integration(ModelSQL, ModelView):
    "Integration"
    __name__ = 'integration.integration'

    _states = {
        'readonly': Eval('status') == 'disabled',
        }

    name = fields.Char("Name", required=True, states=_states)
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    connector = fields.Selection(
        [(None, "")], "Connector", required=True, sort=False,
        states={
            'readonly': Eval('id', -1) >= 0,
            },
        help="The external system this integration talks to.")
    status = fields.Selection([
            ('draft', "Draft"),
            ('active', "Active"),
            ('error', "Error"),
            ('disabled', "Disabled"),
            ], "Status", readonly=True, required=True, sort=False)
    schedule = fields.Selection([
            ('every_6_hours', "Every 6 hours"),
            ('daily', "Daily at midnight"),
            ('manual', "Manual only"),
            ], "Schedule", required=True, sort=False, states=_states,
        help="When the integration synchronises by itself.\n"
        "Daily runs at midnight in the company's timezone.")
    direction = fields.Selection([
            ('import', "Import only"),
            ('bidirectional', "Bidirectional"),
            ], "Direction", required=True, sort=False, states=_states)
    initial_date = fields.Date(
        "Initial Import Date", required=True, states=_states,
        help="The first synchronisation imports records from this date on.")
    filter_months_back = fields.Integer(
        "Months Back", states=_states,
        domain=[
            If(Bool(Eval('filter_months_back')),
                ('filter_months_back', '>', 0), ()),
            ],
        help="Import only titles and movements of the last months.\n"
        "Leave empty to use the initial import date only.")
    filter_entities = fields.MultiSelection(
        'get_entity_selection', "Entities", states=_states,
        help="The kinds of records to synchronise.\n"
        "Leave empty to synchronise all of them.")
    filter_open_only = fields.Boolean(
        "Open Titles Only", states=_states,
        help="Import only titles that are not paid or cancelled yet.")
    filter_bank_accounts = fields.Many2Many(
        'integration.integration-filter-integration.binding',
        'integration', 'binding', "Bank Accounts",
        domain=[
            ('integration', '=', Eval('id', -1)),
            ('kind', '=', 'bank_account'),
            ],
        states=_states,
        help="Import movements and titles of these bank accounts only.\n"
        "Leave empty to import all of them.")
    receive_webhooks = fields.Boolean(
        "Receive Webhooks", states=_states,
        help="Apply the changes that the external system pushes in real time.")
    last_sync = fields.DateTime("Last Sync", readonly=True)
    next_sync = fields.DateTime("Next Sync", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)
    queued_trigger = fields.Selection([
            (None, ""),
            ('manual', "Manual"),
            ('scheduled', "Scheduled"),
            ('webhook', "Webhook"),
            ('retry', "Retry"),
            ('export', "Export"),
            ], "Queued Sync", readonly=True, sort=False,
        help="A sync asked for while another one ran: it runs when that "
        "one ends.")
    queued_by = fields.Many2One(
        'res.user', "Queued by", readonly=True, ondelete='SET NULL')
    live_run = fields.Function(
        fields.Many2One('integration.sync.run', "Running Sync"),
        'get_live_run')
    live_run_progress = fields.Function(
        fields.Float("Progress", digits=(1, 4)), 'get_live_run')
    live_run_step = fields.Function(
        fields.Char("Current Step"), 'get_live_run')
    last_run = fields.Function(
        fields.Many2One('integration.sync.run', "Last Sync Run",
            help="The latest sync run; the whole history opens from Sync "
            "History."),
        'get_last_run')
    runs = fields.One2Many(
        'integration.sync.run', 'integration', "Sync History", readonly=True,
        order=[('start', 'DESC'), ('id', 'DESC')])
    errors = fields.One2Many(
        'integration.sync.error', 'integration', "Pending Errors",
        readonly=True, filter=[('resolved', '=', False)])
    mappings = fields.One2Many(
        'integration.mapping', 'integration', "Category Mappings",
        states=_states)
    cursors = fields.One2Many(
        'integration.cursor', 'integration', "Cursors", readonly=True)
    binding_count = fields.Function(
        fields.Integer("Linked Records"), 'get_binding_count')
    pending_error_count = fields.Function(
        fields.Integer("Pending Errors"), 'get_pending_error_count')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))
        cls._buttons.update({
                'test_connection': {
                    'invisible': Eval('status') == 'disabled',
                    'depends': ['status'],
                    },
                'sync_now': {
                    'invisible': Eval('status').in_(['disabled']),
                    'depends': ['status'],
                    },
                'enable': {
                    'invisible': Eval('status').in_(['active', 'error']),
                    'depends': ['status'],
                    },
                'disable': {
                    'invisible': Eval('status') == 'disabled',
                    'depends': ['status'],
                    },
                'clear_cache': {
                    'invisible': Eval('status') == 'disabled',
                    'depends': ['status'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_status(cls):
        return 'draft'

    @classmethod
    def default_schedule(cls):
        return 'every_6_hours'

    @classmethod
    def default_direction(cls):
        return 'import'

    @classmethod
    def default_initial_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today() - dt.timedelta(days=90)

    @classmethod
    def default_filter_open_only(cls):
        return False

    @classmethod
    def default_receive_webhooks(cls):
        return False

    @classmethod
    def get_entity_selection(cls):
        "Return the (value, label) entity kinds that connectors synchronise"
        return []

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def get_binding_count(cls, integrations, name):
        pool = Pool()
        Binding = pool.get('integration.binding')
        return cls._count_by_integration(Binding, integrations)

    @classmethod
    def get_pending_error_count(cls, integrations, name):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        return cls._count_by_integration(
            Error, integrations, [('resolved', '=', False)])

    @classmethod
    def get_live_run(cls, integrations, names):
        "The run, progress and step of the sync running now, for the form"
        pool = Pool()
        Run = pool.get('integration.sync.run')
        from .sync import process_alive
        result = {name: {i.id: None for i in integrations} for name in names}
        runs = Run.search([
                ('integration', 'in', [i.id for i in integrations]),
                ('state', '=', 'running'),
                ], order=[('start', 'ASC')])
        for run in runs:
            integration = run.integration.id
            if (not process_alive(run.process)
                    or result.get('live_run', {}).get(integration)):
                continue
            if 'live_run' in names:
                result['live_run'][integration] = run.id
            if 'live_run_progress' in names:
                result['live_run_progress'][integration] = run.progress
            if 'live_run_step' in names:
                result['live_run_step'][integration] = run.current_step
        return result

    @classmethod
    def get_last_run(cls, integrations, name):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        result = {}
        for integration in integrations:
            runs = Run.search([('integration', '=', integration.id)],
                order=[('start', 'DESC'), ('id', 'DESC')], limit=1)
            result[integration.id] = runs[0].id if runs else None
        return result

    def local_time(self, value):
        "A naive UTC datetime in the company's timezone"
        return value.replace(tzinfo=dt.timezone.utc).astimezone(
            self.timezone)

    @classmethod
    def _count_by_integration(cls, Model, integrations, domain=None):
        return {
            i.id: Model.search_count(
                [('integration', '=', i.id)] + (domain or []))
            for i in integrations}

    @property
    def timezone(self):
        "The company's timezone, São Paulo when the company has none"
        return ZoneInfo(
            getattr(self.company, 'timezone', None) or DEFAULT_TIMEZONE)

    def compute_next_sync(self, now=None):
        "Return when the schedule runs next after now (naive UTC) or None"
        now = now or utcnow()
        if self.schedule == 'manual' or self.status in {'draft', 'disabled'}:
            return None
        if self.schedule in SCHEDULE_INTERVALS:
            return now + SCHEDULE_INTERVALS[self.schedule]
        if self.schedule == 'daily':
            local_now = now.replace(tzinfo=dt.timezone.utc).astimezone(
                self.timezone)
            next_midnight = dt.datetime.combine(
                local_now.date() + dt.timedelta(days=1), dt.time(0),
                tzinfo=self.timezone)
            return next_midnight.astimezone(dt.timezone.utc).replace(
                tzinfo=None)
        raise NotImplementedError(self.schedule)

    def is_selected(self, entity):
        "Tell whether the filters let this entity kind synchronise"
        return not self.filter_entities or entity in self.filter_entities

    @property
    def import_from_date(self):
        "The oldest date the filters let the import reach"
        pool = Pool()
        Date = pool.get('ir.date')
        start = self.initial_date
        if self.filter_months_back:
            today = Date.today()
            month = today.month - self.filter_months_back
            year = today.year + (month - 1) // 12
            month = (month - 1) % 12 + 1
            months_back = today.replace(year=year, month=month, day=1)
            start = max(start, months_back) if start else months_back
        return start

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        rescheduled = []
        for integrations, values in zip(actions, actions):
            if values.keys() & {'schedule', 'status'}:
                rescheduled.extend(integrations)
        for integration in rescheduled:
            next_sync = integration.compute_next_sync()
            if integration.next_sync != next_sync:
                super().write([integration], {'next_sync': next_sync})

    @classmethod
    def copy(cls, integrations, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('status', 'draft')
        default.setdefault('runs', None)
        default.setdefault('cursors', None)
        default.setdefault('last_sync', None)
        default.setdefault('next_sync', None)
        default.setdefault('last_error', None)
        default.setdefault('queued_trigger', None)
        default.setdefault('queued_by', None)
        default.setdefault('filter_bank_accounts', None)
        return super().copy(integrations, default=default)

    # Buttons: each dispatches to the connector through the hooks below

    @classmethod
    @ModelView.button
    def test_connection(cls, integrations):
        "Test the connections; return the connectors' messages"
        messages = []
        for integration in integrations:
            integration.check_connector()
            messages.append(integration.connector_test_connection())
        return messages

    @classmethod
    @ModelView.button_action('novagestao_integrations_base.wizard_sync_now')
    def sync_now(cls, integrations):
        "Queue a run and say so, or say which run is live (a wizard)"

    @classmethod
    @ModelView.button
    def enable(cls, integrations):
        for integration in integrations:
            integration.check_connector()
        cls.write(integrations, {'status': 'active'})

    @classmethod
    @ModelView.button
    def disable(cls, integrations):
        cls.write(integrations, {'status': 'disabled'})

    @classmethod
    @ModelView.button
    def clear_cache(cls, integrations):
        for integration in integrations:
            integration.connector_clear_cache()

    def check_connector(self):
        if not self.connector:
            raise IntegrationError(gettext(
                    'novagestao_integrations_base.msg_integration_no_connector',
                    integration=self.rec_name))

    # Hooks that connector modules override, testing self.connector first

    def connector_test_connection(self):
        "Check the connection and tell the user the outcome"
        raise IntegrationError(gettext(
                'novagestao_integrations_base.msg_connector_not_installed',
                integration=self.rec_name, connector=self.connector))

    def connector_sync(self, run):
        "Synchronise the integration, recording progress on run"
        raise IntegrationError(gettext(
                'novagestao_integrations_base.msg_connector_not_installed',
                integration=self.rec_name, connector=self.connector))

    def connector_build_chunks(self, run, entity):
        """Build the pending chunks of entity that the connector's run
        shares with the queue workers (see integration.sync.chunk)"""

    def connector_retry(self, errors):
        """Import again the records of the errors
        Return the errors that are now resolved"""
        return []

    def connector_recategorise(self, mappings):
        """Move the records imported under the mappings to their current
        target, without rewriting posted accounting
        Return a list of dict, one per record line changed, with the keys of
        integration.mapping.change.line: mapping, document, old_target,
        new_target, method, correction and amount"""
        return []

    def connector_clear_cache(self):
        "Forget cached remote data so the next sync reads it afresh"
        pool = Pool()
        Cursor = pool.get('integration.cursor')
        Cursor.delete(Cursor.search([('integration', '=', self.id)]))

    def describe_exception(self, exception):
        """Return what a user reads about a failed run

        Connectors override it to explain their own errors; the text must
        never carry a secret."""
        if isinstance(exception, UserError):
            return exception.message
        return gettext(
            'novagestao_integrations_base.msg_unexpected_error',
            error=type(exception).__name__)

    @classmethod
    def check_modification(cls, mode, integrations, values=None,
            external=False):
        super().check_modification(
            mode, integrations, values=values, external=external)
        if mode == 'delete':
            for integration in integrations:
                if integration.runs:
                    raise AccessError(gettext(
                            'novagestao_integrations_base'
                            '.msg_integration_delete_with_history',
                            integration=integration.rec_name))


class IntegrationFilterBinding(ModelSQL):
    "Integration Filter Bank Account"
    __name__ = 'integration.integration-filter-integration.binding'
    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE')
    binding = fields.Many2One(
        'integration.binding', "Binding", required=True, ondelete='CASCADE')

