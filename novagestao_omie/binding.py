# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.pool import PoolMeta


class Binding(metaclass=PoolMeta):
    __name__ = 'integration.binding'

    @classmethod
    def _get_models(cls):
        return super()._get_models() + [
            'account.statement.journal',
            'account.invoice',
            'account.statement',
            'account.statement.line',
            ]
