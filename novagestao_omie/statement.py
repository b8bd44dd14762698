# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from novagestao_integrations_base.binding import BindingMixin
from novagestao_integrations_base.exceptions import IntegrationError

BANK_ACCOUNT_KIND = 'bank_account'


class StatementJournal(BindingMixin, metaclass=PoolMeta):
    __name__ = 'account.statement.journal'

    @classmethod
    def omie_import_bank_accounts(cls, integration, run, bank_accounts):
        """Give each Omie bank or cash account a statement journal, on a
        ledger account of its own under the company's cash account"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        counts = dict.fromkeys(['created', 'updated', 'unchanged'], 0)
        bindings = Binding.lookup(
            integration, BANK_ACCOUNT_KIND, [b.omie_id for b in bank_accounts])
        to_bind = []
        for bank_account in bank_accounts:
            external_id = str(bank_account.omie_id)
            binding = bindings.get(external_id)
            content_hash = bank_account.content_hash()
            if binding and binding.record:
                journal = binding.record
                if binding.content_hash == content_hash:
                    counts['unchanged'] += 1
                    continue
                name = cls._omie_name(bank_account)
                if journal.name != name:
                    journal.name = name
                    journal.save()
                counts['updated'] += 1
            else:
                journal = cls._omie_create_journal(integration, bank_account)
                counts['created'] += 1
            to_bind.append(Binding.link(
                    integration, BANK_ACCOUNT_KIND, external_id, journal,
                    content_hash=content_hash, binding=binding))
        Binding.save(to_bind)
        return counts

    @classmethod
    def _omie_name(cls, bank_account):
        if bank_account.is_cash or not bank_account.number:
            return bank_account.description
        return '%s (%s %s)' % (
            bank_account.description, bank_account.agency,
            bank_account.number)

    @classmethod
    def _omie_cash_account(cls, company):
        "The account whose type and parent the bank accounts share"
        pool = Pool()
        Account = pool.get('account.account')
        accounts = Account.search([
                ('company', '=', company.id),
                ('type.statement', '=', 'balance'),
                ('type.assets', '=', True),
                ('type.receivable', '=', False),
                ('type.stock', '=', False),
                ('reconcile', '=', False),
                ('closed', '!=', True),
                ], order=[('code', 'ASC'), ('id', 'ASC')], limit=1)
        if not accounts:
            raise IntegrationError(gettext(
                    'novagestao_omie.msg_no_cash_account',
                    company=company.rec_name))
        return accounts[0]

    @classmethod
    def _omie_create_journal(cls, integration, bank_account):
        pool = Pool()
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        company = integration.company
        with Transaction().set_context(company=company.id):
            cash = cls._omie_cash_account(company)
            name = cls._omie_name(bank_account)
            account = Account(
                name=name, company=company, type=cash.type,
                parent=cash.parent, code=None,
                reconcile=False)
            account.save()
            statement_journal, = Journal.search([
                    ('type', '=', 'statement'),
                    ], limit=1)
            journal = cls(
                name=name, company=company, journal=statement_journal,
                account=account, currency=company.currency,
                validation='amount')
            journal.save()
        return journal
