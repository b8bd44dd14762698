# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Do the books agree with the external system?

A books check compares, per bank account and per party, the balance the
external system holds with the one Tryton's books hold, and lists each
difference with the records that explain it (a record pending on an error,
a movement not imported yet, a manual invoice…).  A difference the records
do not explain keeps the incident "Books differ" open until a check finds
none.  The connector gathers the amounts (connector_books_check); this
module keeps the results and their history."""
import logging
from decimal import Decimal

from trytond.i18n import gettext, ngettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .feedback import _Answer

from .exceptions import IntegrationError
from .integration import utcnow

logger = logging.getLogger(__name__)

# The checks kept per integration: one is recorded after each run
KEPT_CHECKS = 30
KINDS = [
    ('bank', "Bank Account"),
    ('party', "Party"),
    ]


class BooksCheck(ModelSQL, ModelView):
    """Books Check

    The comparison, at one moment, of an integration's books with the
    external system's; its lines are the differences found."""
    __name__ = 'integration.books.check'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    checked_at = fields.DateTime("Checked at", required=True, readonly=True)
    run = fields.Many2One(
        'integration.sync.run', "Sync Run", readonly=True,
        ondelete='SET NULL',
        help="The run after which the check ran (none when asked from the "
        "integration).")
    bank_count = fields.Integer("Bank Accounts Checked", readonly=True)
    party_count = fields.Integer("Parties Checked", readonly=True)
    difference_count = fields.Integer("Differences", readonly=True)
    unexplained_count = fields.Integer("Unexplained", readonly=True)
    lines = fields.One2Many(
        'integration.books.check.line', 'check', "Differences",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        cls._order = [('checked_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual',
                If(Eval('unexplained_count', 0) > 0, 'danger', '')),
            ]

    def get_rec_name(self, name):
        return '%s @ %s' % (self.integration.rec_name,
            self.integration.local_time(self.checked_at).strftime(
                '%d/%m/%Y %H:%M'))

    @classmethod
    def record(cls, integration, differences, bank_count=0, party_count=0,
            run=None):
        """Save a check of the integration with its differences, a list of
        dict with the fields of a line, and drop the oldest checks
        Return the check"""
        pool = Pool()
        Line = pool.get('integration.books.check.line')
        lines = []
        for values in differences:
            line = Line(**values)
            line.difference = (
                (line.omie_amount or 0) - (line.tryton_amount or 0)
                if line.omie_amount is not None else None)
            lines.append(line)
        check = cls(
            integration=integration, checked_at=utcnow(), run=run,
            bank_count=bank_count, party_count=party_count,
            difference_count=sum(1 for l in lines if l.difference),
            unexplained_count=sum(1 for l in lines if not l.explained),
            lines=lines)
        check.save()
        old = cls.search([
                ('integration', '=', integration.id),
                ], order=[('checked_at', 'DESC'), ('id', 'DESC')],
            offset=KEPT_CHECKS)
        if old:
            cls.delete(old)
        return check


class BooksCheckLine(ModelSQL, ModelView):
    """Books Check Line

    One subject (a bank account, a party) whose amount differs between the
    external system and Tryton, with what explains the difference"""
    __name__ = 'integration.books.check.line'

    check = fields.Many2One(
        'integration.books.check', "Check", required=True,
        ondelete='CASCADE', readonly=True)
    integration = fields.Function(fields.Many2One(
            'integration.integration', "Integration"),
        'on_change_with_integration', searcher='search_integration')
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True,
        sort=False)
    subject = fields.Char("Subject", required=True, readonly=True)
    omie_amount = fields.Numeric(
        "External Amount", digits=(16, 2), readonly=True,
        help="What the external system holds (empty when it did not answer).")
    tryton_amount = fields.Numeric(
        "Tryton Amount", digits=(16, 2), readonly=True)
    difference = fields.Numeric(
        "Difference", digits=(16, 2), readonly=True,
        help="The external amount minus Tryton's.")
    explanation = fields.Text("Explanation", readonly=True)
    explained = fields.Boolean("Explained", readonly=True,
        help="The records listed account for the whole difference: it goes "
        "away once they are imported or fixed.")
    related = fields.Reference(
        "Related Record", selection='get_related_models', readonly=True,
        help="The record that explains the difference, or the first one to "
        "look at.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('check')
        cls._order = [
            ('check', 'DESC'), ('explained', 'ASC'), ('kind', 'ASC'),
            ('subject', 'ASC'), ('id', 'ASC')]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(~Eval('explained'), 'danger', '')),
            ]

    @fields.depends('check', '_parent_check.integration')
    def on_change_with_integration(self, name=None):
        return self.check.integration if self.check else None

    @classmethod
    def search_integration(cls, name, clause):
        return [('check.integration',) + tuple(clause[1:])]

    @classmethod
    def get_related_models(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        Integration = pool.get('integration.integration')
        return [(None, '')] + [
            (m, Model.get_name(m))
            for m in Integration.books_related_models()]

    def get_rec_name(self, name):
        return self.subject


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    books_checks = fields.One2Many(
        'integration.books.check', 'integration', "Books Checks",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'check_books': {
                    'invisible': Eval('status').in_(['draft', 'disabled']),
                    'depends': ['status'],
                    },
                })

    @classmethod
    def copy(cls, integrations, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('books_checks', None)
        return super().copy(integrations, default=default)

    @classmethod
    def books_related_models(cls):
        "The models a difference may point at (connectors extend them)"
        return [
            'integration.sync.error', 'integration.binding',
            'account.account', 'account.move', 'party.party']

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_check_books')
    def check_books(cls, integrations):
        "Check the books against the external system (a wizard)"

    @classmethod
    def books_check(cls, integrations):
        """Check now the books of the integrations against their external
        systems, evaluate their incidents and return the checks"""
        pool = Pool()
        Incident = pool.get('integration.incident')
        checks = []
        for integration in integrations:
            if integration.status in {'draft', 'disabled'}:
                raise IntegrationError(gettext(
                        'novagestao_integrations_base.msg_books_not_active',
                        integration=integration.rec_name))
            with Transaction().set_context(company=integration.company.id):
                checks.append(integration.connector_books_check())
            # as after a run: in a short transaction, the integration locked
            Incident.evaluate_alone(integration)
        return checks

    def connector_books_check(self, run=None, source=None):
        """Compare the books with the external system and record the
        outcome with integration.books.check.record; return the check
        (connectors override it, testing self.connector first)

        source is what the run has just read, for the connector to reuse."""
        raise IntegrationError(gettext(
                'novagestao_integrations_base.msg_books_not_supported',
                integration=self.rec_name))

    def _incident_books_differ(self, now):
        pool = Pool()
        Check = pool.get('integration.books.check')
        Line = pool.get('integration.books.check.line')
        checks = Check.search([
                ('integration', '=', self.id),
                ], order=[('checked_at', 'DESC'), ('id', 'DESC')], limit=1)
        if checks and checks[0].unexplained_count:
            check, = checks
            first, = Line.search([
                    ('check', '=', check.id),
                    ('explained', '=', False),
                    ], order=[('id', 'ASC')], limit=1)
            return check, ngettext(
                'novagestao_integrations_base.msg_incident_books_differ',
                check.unexplained_count, count=check.unexplained_count, subject=first.subject,
                difference=_money(first.difference))


class CheckBooks(_Answer):
    "Check the Books"
    __name__ = 'integration.check_books'

    def work(self):
        pool = Pool()
        Integration = pool.get('integration.integration')
        lines = []
        for check in Integration.books_check(self.records):
            lines.append(gettext(
                    'novagestao_integrations_base.msg_books_answer',
                    integration=check.integration.rec_name,
                    banks=check.bank_count or 0,
                    parties=check.party_count or 0,
                    differences=check.difference_count or 0,
                    unexplained=check.unexplained_count or 0))
        lines.append(gettext(
                'novagestao_integrations_base.msg_books_answer_where'))
        return '\n'.join(lines)


def _money(value):
    "A difference as Brazilians write it: 1.234,50"
    if value is None:
        return ''
    text = '{:,.2f}'.format(Decimal(value))
    return text.replace(',', '\0').replace('.', ',').replace('\0', '.')
