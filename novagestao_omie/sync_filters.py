# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The filters of an integration (import date, bank accounts, open titles)
as the params of Omie's own lists: the importers apply them again to the
records read another way (webhooks, Consultar…)"""
import datetime as dt

from trytond.pool import Pool
from trytond.transaction import Transaction

from .omie import records

# Omie changes open titles without notice (status, settlements): each run
# reads again the titles issued in this window.
REPOLL_WINDOW = dt.timedelta(days=120)


class IntegrationFilters:
    "The filters part of OmieSync"

    def selected_bank_accounts(self):
        "The Omie ids of the bank accounts the integration is limited to"
        return sorted(int(b.external_id)
            for b in self.integration.filter_bank_accounts
            if b.kind == 'bank_account')

    def date_and_account_filters(self, date_key, account_key=None):
        """The Omie params of the import date and, when the integration is
        limited to a single bank account, of that account"""
        params = {}
        from_date = self.integration.import_from_date
        if from_date:
            params[date_key] = records.format_date(from_date)
        accounts = self.selected_bank_accounts()
        if account_key and len(accounts) == 1:
            params[account_key] = accounts[0]
        return params

    def title_filters(self, step):
        params = self.date_and_account_filters(
            'filtrar_por_emissao_de', 'filtrar_conta_corrente')
        if (self.integration.filter_open_only and step.entity == 'receivable'
                and not self.cursor_params(step)):
            # Only on the first read: later reads must see the imported
            # titles that got paid or cancelled.  (Omie deprecated this
            # filter on payables, whose importer filters alone.)
            params['filtrar_apenas_titulos_em_aberto'] = 'S'
        return params

    def title_repoll(self, step):
        "Read again the titles issued lately, whose status Omie may change"
        pool = Pool()
        Date = pool.get('ir.date')
        with Transaction().set_context(company=self.integration.company.id):
            since = Date.today() - REPOLL_WINDOW
        from_date = self.integration.import_from_date
        if from_date and from_date > since:
            since = from_date
        return {'filtrar_por_emissao_de': records.format_date(since)}

    def settlement_filters(self, step):
        return self.date_and_account_filters('dDtPagtoDe', 'nCodCC')

    def nf_filters(self, step):
        return self.date_and_account_filters('dEmiInicial')

