# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.i18n import gettext
from trytond.pool import PoolMeta

# The kinds of records bound that are not entity kinds of a sync
BINDING_KINDS = [
    'statement_line', 'settlement_line', 'clearing_account',
    'payment_method', 'account']


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

    @classmethod
    def get_kinds(cls):
        return super().get_kinds() + [
            (kind, gettext('novagestao_omie.msg_entity_%s' % kind))
            for kind in BINDING_KINDS]
