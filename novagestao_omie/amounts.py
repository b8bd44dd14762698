# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Whether the amounts and the currency of an Omie record can be booked"
from trytond.i18n import gettext

from .omie import records


def amount_problem(record, company):
    """None when the record's amounts and currency can be booked in
    company, else the pending error as (kind, message, fix, detail)

    The parser tells which amounts are out of bounds or finer than a cent
    (records.amount_problems); a record that names no currency is in the
    company's."""
    problems = record.amount_problems
    if problems:
        field, value, reason = problems[0]
        if reason == 'too_large':
            return ('validation',
                gettext('novagestao_omie.msg_amount_too_large',
                    field=field, value=value,
                    limit='{:,}'.format(records.AMOUNT_LIMIT)),
                gettext('novagestao_omie.msg_amount_fix', field=field),
                'amount:%s' % field)
        return ('validation',
            gettext('novagestao_omie.msg_amount_decimals',
                field=field, value=value),
            gettext('novagestao_omie.msg_amount_fix', field=field),
            'amount:%s' % field)
    currency = record.currency
    if currency and currency != company.currency.code:
        return ('validation',
            gettext('novagestao_omie.msg_currency_not_company',
                currency=currency, company=company.rec_name,
                company_currency=company.currency.code),
            gettext('novagestao_omie.msg_currency_not_company_fix',
                company_currency=company.currency.code),
            'currency:%s' % currency)
