# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Retention: what an integration leaves behind is purged after a while

Webhook events that are done, ignored or rejected, and finished sync runs
without an open error, are deleted once older than the retention_days of
the [integration] section of trytond.conf (90 by default).  What is still
to do is kept whatever its age: pending and failed events, open errors and
the runs they belong to."""
import datetime as dt
import logging

from trytond import config
from trytond.pool import Pool, PoolMeta

from .integration import utcnow
from .sync import commit_and_continue

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
# Records deleted per committed transaction: a purge never holds long locks
PURGE_BATCH = 1000


def retention_days():
    return config.getint(
        'integration', 'retention_days', default=DEFAULT_RETENTION_DAYS)


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def purge_old_records(cls, days=None, batch=PURGE_BATCH):
        """Delete the finished webhook events and sync runs older than the
        retention (cron), batch by batch, each committed
        Return (events deleted, runs deleted)"""
        pool = Pool()
        Event = pool.get('integration.webhook.event')
        Run = pool.get('integration.sync.run')
        if days is None:
            days = retention_days()
        limit = utcnow() - dt.timedelta(days=days)
        events = cls._purge(Event, [
                ('state', 'in', ['done', 'ignored', 'rejected']),
                ('received_at', '<', limit),
                ], batch)
        runs = cls._purge(Run, [
                ('state', 'in', ['done', 'partial', 'failed']),
                ('start', '<', limit),
                ['OR', ('end', '=', None), ('end', '<', limit)],
                ('errors', 'not where', [('resolved', '=', False)]),
                ], batch)
        logger.info(
            "purged %d webhook events and %d sync runs older than %d days",
            events, runs, days)
        return events, runs

    @classmethod
    def _purge(cls, Model, domain, batch):
        count = 0
        while True:
            records = Model.search(
                domain, order=[('id', 'ASC')], limit=batch)
            if not records:
                return count
            Model.delete(records)
            count += len(records)
            commit_and_continue()
