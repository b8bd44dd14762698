# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Metrics of a run: the remote calls it made, per method

A connector hands the figures of its client to the run when a part of the
run ends (SyncRun.add_method_metrics); the base knows nothing of the remote
system but the method names."""
import logging

from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)


# {(database, run id): {method: figures}} handed by the connector and not
# stored yet: they are stored when the run ends, after the rollback of a
# failed run, so that a failed run keeps them too
_PENDING = {}


def merge_figures(old, new):
    """The figures of one method called in two parts (the sync, then the
    export): the calls, retries and waits add up, the median becomes the
    mean of the two weighted by their calls and the 95th percentile the
    larger of the two (an upper bound)"""
    if not old:
        return dict(new)
    calls_old, calls_new = old.get('requests') or 0, new.get('requests') or 0
    merged = {
        'requests': calls_old + calls_new,
        'retries': (old.get('retries') or 0) + (new.get('retries') or 0),
        'waited': (old.get('waited') or 0) + (new.get('waited') or 0),
        }
    p50s = [(old.get('p50_ms'), calls_old), (new.get('p50_ms'), calls_new)]
    p50s = [(v, c) for v, c in p50s if v is not None and c]
    merged['p50_ms'] = round(
        sum(v * c for v, c in p50s) / sum(c for _, c in p50s)
        ) if p50s else None
    p95s = [v for v in [old.get('p95_ms'), new.get('p95_ms')]
        if v is not None]
    merged['p95_ms'] = max(p95s) if p95s else None
    return merged


class SyncRun(metaclass=PoolMeta):
    __name__ = 'integration.sync.run'

    methods = fields.One2Many(
        'integration.sync.run.method', 'run', "Remote Methods",
        readonly=True)

    def _pending_key(self):
        return (Transaction().database.name, self.id)

    def add_method_metrics(self, metrics):
        """Add to the run the figures of the remote methods it called:
        metrics is {method: {requests, retries, waited, p50_ms, p95_ms}}
        (see merge_figures for a method given twice); they are stored when
        the run ends, failed or not"""
        pending = _PENDING.setdefault(self._pending_key(), {})
        for name, figures in metrics.items():
            if figures.get('requests') or figures.get('retries'):
                pending[name] = merge_figures(pending.get(name), figures)

    def store_method_metrics(self):
        "Store the figures the connector handed to the run"
        pool = Pool()
        Method = pool.get('integration.sync.run.method')
        pending = _PENDING.pop(self._pending_key(), None)
        if not pending:
            return
        existing = {m.method: m for m in Method.search([
                    ('run', '=', self.id),
                    ('method', 'in', list(pending)),
                    ])}
        to_save = []
        for name, figures in sorted(pending.items()):
            method = existing.get(name)
            if method:
                figures = merge_figures({
                        'requests': method.calls, 'retries': method.retries,
                        'waited': method.waited, 'p50_ms': method.p50_ms,
                        'p95_ms': method.p95_ms}, figures)
            else:
                method = Method(run=self, method=name)
            method.calls = figures.get('requests') or 0
            method.retries = figures.get('retries') or 0
            method.waited = round(figures.get('waited') or 0, 1)
            method.p50_ms = figures.get('p50_ms')
            method.p95_ms = figures.get('p95_ms')
            to_save.append(method)
        Method.save(to_save)

    def _store_method_metrics_safely(self):
        # figures are a report on the run, never a reason to lose it
        try:
            self.store_method_metrics()
        except Exception:
            logger.exception(
                "remote methods of run %d not stored", self.id)

    def finish(self):
        self._store_method_metrics_safely()
        super().finish()

    def fail(self, exception):
        self._store_method_metrics_safely()
        super().fail(exception)


class SyncRunMethod(ModelSQL, ModelView):
    "Sync Run Remote Method"
    __name__ = 'integration.sync.run.method'

    run = fields.Many2One(
        'integration.sync.run', "Run", required=True, ondelete='CASCADE',
        readonly=True)
    method = fields.Char("Method", required=True, readonly=True)
    calls = fields.Integer(
        "Calls", required=True, readonly=True,
        help="The requests sent, retries included.")
    retries = fields.Integer("Retries", required=True, readonly=True)
    waited = fields.Float(
        "Waited (s)", digits=(16, 1), required=True, readonly=True,
        help="The seconds waited before retrying, as the external system "
        "asked or after its errors.")
    p50_ms = fields.Integer(
        "Median (ms)", readonly=True,
        help="Half of the answers came faster.")
    p95_ms = fields.Integer(
        "95th Percentile (ms)", readonly=True,
        help="95 answers in 100 came faster.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')
        cls._order[0:0] = [('run', 'DESC'), ('method', 'ASC')]
        t = cls.__table__()
        cls._sql_constraints += [
            ('run_method_unique', Unique(t, t.run, t.method),
                'novagestao_integrations_base.msg_run_method_unique'),
            ]
