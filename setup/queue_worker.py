# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Run the queued tasks (Sync now, webhook batches, re-categorisations) of
a SQLite database beside the trytond that serves it.

trytond-worker waits on PostgreSQL's notifications, which SQLite does not
have (and ir.queue's own pull builds a query SQLite cannot run); without a
worker, trytond runs a task inside the request that queued it, so Sync now
would hold the web client until the whole run ends.  This loop takes the
next task that is due through the ORM and runs it with run_task, as
trytond-worker does, one at a time (SQLite has one writer).

    python setup/queue_worker.py -c trytond.conf -d demo
"""
import argparse
import datetime as dt
import logging
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', required=True)
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--idle', type=float, default=1.0,
        help="seconds between two looks at an empty queue")
    options = parser.parse_args()

    from trytond import config
    config.update_etc(options.config)
    logging.basicConfig(level=logging.INFO,
        format='%(asctime)s %(levelname)s %(name)s %(message)s')

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    pool = Pool(options.database)
    with Transaction().start(options.database, 0, readonly=True):
        pool.init()
    Queue = pool.get('ir.queue')
    while True:
        task_id, wait = take_next(Queue, options.database)
        if task_id:
            run_task(pool, task_id)
        else:
            time.sleep(max(0.1, min(wait or options.idle, options.idle)))


def take_next(Queue, database):
    """Mark the next task that is due as taken and return its id, or None
    and the seconds until the next scheduled task (None when there is none)"""
    from trytond.transaction import Transaction
    now = dt.datetime.now()
    with Transaction().start(database, 0):
        due = Queue.search([
                ('dequeued_at', '=', None),
                ['OR',
                    ('scheduled_at', '=', None),
                    ('scheduled_at', '<=', now),
                    ],
                ], order=[('scheduled_at', 'ASC NULLS FIRST'),
                ('expected_at', 'ASC NULLS FIRST'), ('id', 'ASC')], limit=1)
        if due:
            task, = due
            Queue.write([task], {'dequeued_at': now})
            return task.id, None
        later = Queue.search([
                ('dequeued_at', '=', None),
                ('scheduled_at', '>', now),
                ], order=[('scheduled_at', 'ASC')], limit=1)
        if later:
            return None, (later[0].scheduled_at - now).total_seconds()
        return None, None


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
