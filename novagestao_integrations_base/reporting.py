# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The dashboard's figures: SQL views of the runs, their counters and remote
methods and of the webhook inbox, per day (or per method) over the last
days, for all integrations or the one of the context

Context keys: dashboard_integration (an integration id, all of the user's
companies otherwise) and dashboard_days (30 by default).  The days are the
company's: a date-time is moved by the offset of the company's timezone at
the time of the query (on PostgreSQL by its timezone)."""
import datetime as dt
from zoneinfo import ZoneInfo

from sql import Literal
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import CurrentTimestamp, Function

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .integration import DEFAULT_TIMEZONE, utcnow

DAYS = 30


class SQLiteDate(Function):
    __slots__ = ()
    _function = 'DATE'


def report_context():
    """The integration (or None), the first date-time and the timezone of
    the figures asked by the context"""
    pool = Pool()
    Integration = pool.get('integration.integration')
    Company = pool.get('company.company')
    context = Transaction().context
    integration = context.get('dashboard_integration')
    days = context.get('dashboard_days') or DAYS
    company = None
    if integration is not None:
        integration = int(integration)
        company = Integration(integration).company
    elif context.get('company'):
        company = Company(context['company'])
    timezone = getattr(company, 'timezone', None) or DEFAULT_TIMEZONE
    since = utcnow() - dt.timedelta(days=days)
    return integration, since, timezone


def local_date(column, timezone):
    "The date in the timezone of the naive UTC date-time column"
    if backend.name == 'sqlite':
        offset = dt.datetime.now(ZoneInfo(timezone)).utcoffset()
        minutes = int(offset.total_seconds() // 60)
        return SQLiteDate(column, '%+d minutes' % minutes)
    return fields.Date("Date").sql_cast(column, timezone=timezone)


def integration_filter(integration_table, integration):
    """The condition on the integrations the figures are of: those of the
    user's companies (the one of the context, if any)"""
    context = Transaction().context
    condition = Literal(True)
    companies = context.get('companies') or (
        [context['company']] if context.get('company') else None)
    if companies:
        condition &= integration_table.company.in_(list(companies))
    if integration is not None:
        condition &= integration_table.id == integration
    return condition


def audit_columns():
    "The columns Tryton reads of any record: who and when created it"
    return [
        Literal(0).as_('create_uid'),
        CurrentTimestamp().as_('create_date'),
        Literal(0).as_('write_uid'),
        CurrentTimestamp().as_('write_date'),
        ]


def counted(condition):
    return Sum(Case((condition, 1), else_=0))


class ReportMixin:
    __slots__ = ()

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('date', 'ASC'))

    @staticmethod
    def ratio(numerator, denominator, factor=1):
        if denominator:
            return round((numerator or 0) * factor / denominator, 1)


class MedianMixin:
    """The median answer time of rows that sum the medians of their runs
    weighted by their calls (p50_weight)"""
    __slots__ = ()
    p50_weight = fields.Float("Median Weight")
    p50_ms = fields.Function(
        fields.Integer("Median (ms)",
            help="The median answer time, weighted by the calls."),
        'get_p50_ms')

    def get_p50_ms(self, name):
        if self.calls:
            return round((self.p50_weight or 0) / self.calls)


class RunReport(MedianMixin, ReportMixin, ModelSQL, ModelView):
    "Sync Runs per Day"
    __name__ = 'integration.report.run'

    date = fields.Date("Date")
    runs = fields.Integer("Runs")
    done = fields.Integer("Done")
    partial = fields.Integer("Partial")
    failed = fields.Integer("Failed")
    error_rate = fields.Function(
        fields.Float("Failed Runs (%)", digits=(3, 1),
            help="The runs that failed among those that ended."),
        'get_error_rate')
    records = fields.Integer("Records")
    errors = fields.Integer("Errors")
    calls = fields.Integer("Remote Calls")
    retries = fields.Integer("Retries")
    waited = fields.Float("Waited (s)", digits=(16, 1))
    p95_ms = fields.Integer(
        "95th Percentile (ms)",
        help="The largest 95th percentile of the day's runs.")

    @classmethod
    def table_query(cls):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        Method = pool.get('integration.sync.run.method')
        Integration = pool.get('integration.integration')
        run = Run.__table__()
        method = Method.__table__()
        integration_table = Integration.__table__()
        integration, since, timezone = report_context()
        methods = method.select(
            method.run.as_('run'),
            Sum(method.calls).as_('calls'),
            Sum(method.retries).as_('retries'),
            Sum(method.waited).as_('waited'),
            Sum(method.p50_ms * method.calls).as_('p50_weight'),
            Max(method.p95_ms).as_('p95_ms'),
            group_by=[method.run])
        records = sum((Coalesce(getattr(run, n), 0) for n in [
                    'created', 'updated', 'unchanged', 'skipped', 'failed',
                    'exported', 'conflicts']), Literal(0))
        # the date is computed below the grouping: PostgreSQL does not see
        # two expressions with parameters as the same one
        rows = (run
            .join(integration_table,
                condition=run.integration == integration_table.id)
            .join(methods, 'LEFT', condition=methods.run == run.id)
            .select(
                run.id.as_('id'),
                local_date(run.start, timezone).as_('date'),
                run.state.as_('state'),
                records.as_('records'),
                Coalesce(run.error_count, 0).as_('errors'),
                Coalesce(methods.calls, 0).as_('calls'),
                Coalesce(methods.retries, 0).as_('retries'),
                Coalesce(methods.waited, 0).as_('waited'),
                Coalesce(methods.p50_weight, 0).as_('p50_weight'),
                methods.p95_ms.as_('p95_ms'),
                where=(run.start >= since)
                & integration_filter(integration_table, integration)))
        return rows.select(
            *audit_columns(),
            Min(rows.id).as_('id'),
            rows.date.as_('date'),
            Count(rows.id).as_('runs'),
            counted(rows.state == 'done').as_('done'),
            counted(rows.state == 'partial').as_('partial'),
            counted(rows.state == 'failed').as_('failed'),
            Sum(rows.records).as_('records'),
            Sum(rows.errors).as_('errors'),
            Sum(rows.calls).as_('calls'),
            Sum(rows.retries).as_('retries'),
            Sum(rows.waited).as_('waited'),
            Sum(rows.p50_weight).as_('p50_weight'),
            Max(rows.p95_ms).as_('p95_ms'),
            group_by=[rows.date])

    def get_error_rate(self, name):
        return self.ratio(
            self.failed, (self.done or 0) + (self.partial or 0)
            + (self.failed or 0), 100)


class EntityReport(ReportMixin, ModelSQL, ModelView):
    "Synchronised Records per Day and Entity"
    __name__ = 'integration.report.entity'

    date = fields.Date("Date")
    entity = fields.Selection('get_entities', "Entity")
    # the graphs of connectors show a series per entity
    records = fields.Integer("Records", depends={'entity'})
    created = fields.Integer("Created")
    updated = fields.Integer("Updated")
    exported = fields.Integer("Exported")
    failed = fields.Integer("Failed")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(1, ('entity', 'ASC'))

    @classmethod
    def get_entities(cls):
        pool = Pool()
        Integration = pool.get('integration.integration')
        return Integration.get_entity_selection()

    @classmethod
    def table_query(cls):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        Counter = pool.get('integration.sync.run.counter')
        Integration = pool.get('integration.integration')
        run = Run.__table__()
        counter = Counter.__table__()
        integration_table = Integration.__table__()
        integration, since, timezone = report_context()
        records = sum((getattr(counter, n) for n in [
                    'created', 'updated', 'unchanged', 'skipped', 'failed',
                    'exported', 'conflicts']), Literal(0))
        rows = (counter
            .join(run, condition=counter.run == run.id)
            .join(integration_table,
                condition=run.integration == integration_table.id)
            .select(
                counter.id.as_('id'),
                local_date(run.start, timezone).as_('date'),
                counter.entity.as_('entity'),
                records.as_('records'),
                counter.created.as_('created'),
                counter.updated.as_('updated'),
                counter.exported.as_('exported'),
                counter.failed.as_('failed'),
                where=(run.start >= since)
                & integration_filter(integration_table, integration)))
        return rows.select(
            *audit_columns(),
            Min(rows.id).as_('id'),
            rows.date.as_('date'),
            rows.entity.as_('entity'),
            Sum(rows.records).as_('records'),
            Sum(rows.created).as_('created'),
            Sum(rows.updated).as_('updated'),
            Sum(rows.exported).as_('exported'),
            Sum(rows.failed).as_('failed'),
            group_by=[rows.date, rows.entity])


class MethodReport(MedianMixin, ModelSQL, ModelView):
    "Remote Methods"
    __name__ = 'integration.report.method'

    method = fields.Char("Method")
    runs = fields.Integer("Runs")
    calls = fields.Integer("Calls")
    retries = fields.Integer("Retries")
    waited = fields.Float("Waited (s)", digits=(16, 1))
    p95_ms = fields.Integer(
        "95th Percentile (ms)",
        help="The largest 95th percentile of the runs.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order[0:0] = [('calls', 'DESC'), ('method', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        Method = pool.get('integration.sync.run.method')
        Integration = pool.get('integration.integration')
        run = Run.__table__()
        method = Method.__table__()
        integration_table = Integration.__table__()
        integration, since, _ = report_context()
        query = (method
            .join(run, condition=method.run == run.id)
            .join(integration_table,
                condition=run.integration == integration_table.id))
        return query.select(
            *audit_columns(),
            Min(method.id).as_('id'),
            method.method.as_('method'),
            Count(method.run, distinct=True).as_('runs'),
            Sum(method.calls).as_('calls'),
            Sum(method.retries).as_('retries'),
            Sum(method.waited).as_('waited'),
            Sum(method.p50_ms * method.calls).as_('p50_weight'),
            Max(method.p95_ms).as_('p95_ms'),
            where=(run.start >= since)
            & integration_filter(integration_table, integration),
            group_by=[method.method])


class WebhookReport(ReportMixin, ModelSQL, ModelView):
    "Webhook Events per Day"
    __name__ = 'integration.report.webhook'

    date = fields.Date("Date")
    received = fields.Integer("Received")
    done = fields.Integer("Done")
    failed = fields.Integer("Failed")
    rejected = fields.Integer("Rejected")
    waiting = fields.Integer(
        "Waiting", help="The events not processed yet.")
    ack_total = fields.Float("Answer Time Total")
    ack_count = fields.Integer("Answers Timed")
    ack_ms = fields.Function(
        fields.Integer("Mean Answer Time (ms)",
            help="From the arrival of a delivery to its answer."),
        'get_ack_ms')
    ack_max_ms = fields.Integer("Longest Answer Time (ms)")

    @classmethod
    def table_query(cls):
        pool = Pool()
        Event = pool.get('integration.webhook.event')
        Integration = pool.get('integration.integration')
        event = Event.__table__()
        integration_table = Integration.__table__()
        integration, since, timezone = report_context()
        rows = (event
            .join(integration_table,
                condition=event.integration == integration_table.id)
            .select(
                event.id.as_('id'),
                local_date(event.received_at, timezone).as_('date'),
                event.state.as_('state'),
                event.ack_ms.as_('ack_ms'),
                where=(event.received_at >= since)
                & integration_filter(integration_table, integration)))
        return rows.select(
            *audit_columns(),
            Min(rows.id).as_('id'),
            rows.date.as_('date'),
            Count(rows.id).as_('received'),
            counted(rows.state == 'done').as_('done'),
            counted(rows.state == 'failed').as_('failed'),
            counted(rows.state == 'rejected').as_('rejected'),
            counted(rows.state.in_(['pending', 'processing'])).as_('waiting'),
            Sum(Coalesce(rows.ack_ms, 0)).as_('ack_total'),
            Count(rows.ack_ms).as_('ack_count'),
            Max(rows.ack_ms).as_('ack_max_ms'),
            group_by=[rows.date])

    def get_ack_ms(self, name):
        if self.ack_count:
            return round((self.ack_total or 0) / self.ack_count)

