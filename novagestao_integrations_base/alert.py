# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Alerts at a glance: the open incidents of an integration beside its
status, in the list of integrations and on its form"""
from sql.aggregate import Count, Max

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

# The causes from the most serious: the first open one names the alerts
SEVERITY = [
    'credentials', 'remote_block', 'run_failed', 'sync_overdue',
    'webhook_failed', 'errors_pending', 'conflicts_waiting',
    ]
# The causes that stop the integration: the others only slow it down
DANGER = {'credentials', 'remote_block', 'run_failed', 'sync_overdue'}


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    alert_count = fields.Function(
        fields.Integer("Open Incidents"), 'get_alerts')
    alerts = fields.Function(
        fields.Char(
            "Alerts",
            help="The most serious open incident, and how many more."),
        'get_alerts')
    alert_level = fields.Function(
        fields.Selection([
                (None, ""),
                ('warning', "Warning"),
                ('danger', "Danger"),
                ], "Alert Level"),
        'get_alerts')

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('alert_level') == 'danger', 'danger',
                    If(Eval('alert_level') == 'warning', 'warning', ''))),
            ]

    @classmethod
    def get_alerts(cls, integrations, names):
        """The open incidents of the integrations: how many, the most
        serious cause (the latest seen among equals) and its level, read
        with one grouped query for them all"""
        pool = Pool()
        Incident = pool.get('integration.incident')
        incident = Incident.__table__()
        cursor = Transaction().connection.cursor()
        labels = dict(Incident.fields_get(['cause'])['cause']['selection'])
        found = {}
        for sub_ids in grouped_slice([i.id for i in integrations]):
            cursor.execute(*incident.select(
                    incident.integration, incident.cause,
                    Count(incident.id), Max(incident.last_seen),
                    where=reduce_ids(incident.integration, sub_ids)
                    & (incident.state == 'open'),
                    group_by=[incident.integration, incident.cause]))
            for integration, cause, count, last_seen in cursor:
                found.setdefault(integration, []).append(
                    (cause, count, last_seen))
        result = {name: {} for name in names}
        for integration in integrations:
            causes = found.get(integration.id, [])
            count = sum(c[1] for c in causes)
            worst = min(causes, key=lambda c: (
                    SEVERITY.index(c[0]) if c[0] in SEVERITY
                    else len(SEVERITY), -_stamp(c[2])), default=None)
            text = level = None
            if worst:
                text = labels.get(worst[0], worst[0])
                if count > 1:
                    text = gettext(
                        'novagestao_integrations_base.msg_alerts_more',
                        cause=text, more=count - 1)
                level = 'danger' if worst[0] in DANGER else 'warning'
            values = {
                'alert_count': count, 'alerts': text, 'alert_level': level}
            for name in names:
                result[name][integration.id] = values[name]
        return result


def _stamp(value):
    "A sortable number of a date-time read from the database (or None)"
    if value is None:
        return 0
    if isinstance(value, str):
        # SQLite gives the aggregate of a timestamp column as text
        return float(''.join(ch for ch in value if ch.isdigit())[:20] or 0)
    return value.timestamp()
