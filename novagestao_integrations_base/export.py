# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The export side of a bidirectional integration: what is exported, from
when, and the queue task that exports soon after a user's change"""
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import IntegrationWarning

# set while a sync or a webhook applies the external system's records, so
# that what it writes is not taken for a user's change to export back
IMPORTING = '_integration_importing'
# the detail of the sync errors of records that could not be exported
EXPORT_DETAIL = 'export'
# the detail of the sync errors of records changed in both systems, which
# wait for a person's decision (conflict.py)
CONFLICT_DETAIL = 'conflict'


def importing():
    "Whether the transaction applies records of an external system"
    return bool(Transaction().context.get(IMPORTING))


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    _export_states = {
        'readonly': ((Eval('direction') != 'bidirectional')
            | (Eval('status') == 'disabled')),
        }

    export_from = fields.Date(
        "Export From",
        states={
            'readonly': _export_states['readonly'],
            'required': Eval('direction') == 'bidirectional',
            },
        help="Only what is dated or created from this day on is exported, "
        "so that turning the export on does not send the past again.")
    export_parties = fields.Boolean(
        "Export New Contacts", states=_export_states,
        help="Send the parties created here, and those the exported "
        "invoices need.")
    export_party_fields = fields.MultiSelection(
        'get_party_export_fields', "Contact Fields", sort=False,
        states=_export_states,
        help="What is sent of a party besides its name.")
    export_categories = fields.Boolean(
        "Export Custom Categories", states=_export_states,
        help="Create in the external system a category for each revenue "
        "or expense account of an exported invoice that no category maps "
        "to, under the group chosen, and map it to the account.")
    export_revenue_group = fields.Selection(
        'get_category_groups', "Group of Revenue Categories", sort=False,
        states={
            'readonly': _export_states['readonly'],
            'invisible': ~Eval('export_categories'),
            })
    export_expense_group = fields.Selection(
        'get_category_groups', "Group of Expense Categories", sort=False,
        states={
            'readonly': _export_states['readonly'],
            'invisible': ~Eval('export_categories'),
            })
    export_invoices = fields.Boolean(
        "Export Invoices", states=_export_states,
        help="Send the supplier and customer invoices posted here as "
        "payables and receivables, and their cancellation.")
    export_invoice_fields = fields.MultiSelection(
        'get_invoice_export_fields', "Invoice Fields", sort=False,
        states=_export_states,
        help="What is sent of an invoice besides its party, due date and "
        "amount.")
    export_payments = fields.Boolean(
        "Export Payments", states=_export_states,
        help="Send the payments of the exported invoices, and their "
        "reversal.")
    export_bank_account = fields.Many2One(
        'integration.binding', "Default Bank Account",
        domain=[
            ('integration', '=', Eval('id', -1)),
            ('kind', '=', 'bank_account'),
            ],
        states=_export_states,
        help="The bank account of the exported invoices, and of their "
        "payments when the payment method is not one of the external "
        "system's accounts.")

    del _export_states

    @classmethod
    def default_export_parties(cls):
        return True

    @classmethod
    def default_export_invoices(cls):
        return True

    @classmethod
    def default_export_payments(cls):
        return True

    @classmethod
    def default_export_party_fields(cls):
        return [f for f, _ in cls.get_party_export_fields()]

    @classmethod
    def default_export_invoice_fields(cls):
        return [f for f, _ in cls.get_invoice_export_fields()]

    @classmethod
    def default_export_categories(cls):
        return False

    @fields.depends('id', 'connector')
    def get_category_groups(self):
        """The (value, label) groups of the external system's categories
        that new ones may go under (connectors override it)"""
        return [(None, '')]

    @classmethod
    def get_party_export_fields(cls):
        "The (value, label) optional fields of an exported party"
        return []

    @classmethod
    def get_invoice_export_fields(cls):
        "The (value, label) optional fields of an exported invoice"
        return []

    @property
    def exports(self):
        "Whether the integration sends records to the external system"
        return (self.direction == 'bidirectional'
            and self.status in {'active', 'error'})

    @classmethod
    def exporting(cls, switch, company=None):
        """The integrations that export, with the switch (export_parties,
        export_invoices, export_payments) on; of company when given"""
        return cls.search([
                ('direction', '=', 'bidirectional'),
                ('status', 'in', ['active', 'error']),
                (switch, '=', True),
                ] + ([('company', '=', company.id)] if company else []))

    @classmethod
    def export_soon(cls, integrations):
        """Queue an export run of the integrations, unless the external
        system's own records are being applied"""
        if importing() or not integrations:
            return
        cls.enqueue_sync(list(set(integrations)), 'export')

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Date = pool.get('ir.date')
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if values.get('direction') == 'bidirectional':
                values.setdefault('export_from', Date.today())
        integrations = super().create(vlist)
        cls._warn_bidirectional(
            [i for i in integrations if i.direction == 'bidirectional'])
        return integrations

    @classmethod
    def write(cls, *args):
        pool = Pool()
        Date = pool.get('ir.date')
        actions = iter(args)
        args, turned_on = [], []
        for integrations, values in zip(actions, actions):
            if values.get('direction') == 'bidirectional':
                turned_on.extend(
                    i for i in integrations if i.direction != 'bidirectional')
                undated = [] if values.get('export_from') else [
                    i for i in integrations if not i.export_from]
                if undated:
                    # the export starts the day it is turned on
                    args.extend([undated,
                            dict(values, export_from=Date.today())])
                    integrations = [
                        i for i in integrations if i not in undated]
                    if not integrations:
                        continue
            args.extend([integrations, values])
        cls._warn_bidirectional(turned_on)
        super().write(*args)

    @classmethod
    def _warn_bidirectional(cls, integrations):
        "Ask the user to confirm the risk of duplicates of a two-way sync"
        pool = Pool()
        Warning = pool.get('res.user.warning')
        if not integrations:
            return
        name = Warning.format('integration_bidirectional', integrations)
        if Warning.check(name):
            raise IntegrationWarning(name, gettext(
                    'novagestao_integrations_base.msg_bidirectional_warning',
                    integrations=', '.join(i.rec_name for i in integrations)))

    @classmethod
    def copy(cls, integrations, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('direction', 'import')
        default.setdefault('export_bank_account', None)
        default.setdefault('export_revenue_group', None)
        default.setdefault('export_expense_group', None)
        return super().copy(integrations, default=default)

    def connector_export(self, run):
        """Send to the external system what changed here since the last
        export, recording it on run (connectors override it)"""
