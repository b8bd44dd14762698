# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('integration.integration|dispatch_due',
                "Synchronise Due Integrations"))
        cls.method.selection.append(
            ('integration.webhook.event|process_due',
                "Process Due Webhook Events"))
        cls.method.selection.append(
            ('integration.integration|purge_old_records',
                "Purge Old Webhook Events and Sync Runs"))
        cls.method.selection.append(
            ('integration.incident|check_due',
                "Check Integration Incidents"))
        cls.method.selection.append(
            ('integration.notification.delivery|process_due',
                "Send Due Notifications"))
