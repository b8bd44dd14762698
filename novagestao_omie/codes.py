# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The integration codes (codigo_*_integracao) of the records sent to Omie

A code is derived from the integration and the Tryton record, never drawn:
sending the same record again after a timeout, a crash or by a second
worker names the same Omie record, which Omie then refuses to create twice,
and a record read back from Omie tells which Tryton record it came from."""
import re

PARTY = 'P'
PAYABLE = 'CP'
RECEIVABLE = 'CR'
SETTLEMENT = 'BX'
# Omie's categories hold no integration code: this names the account whose
# category could not be exported, in its pending error only
CATEGORY = 'CT'
TITLE_PREFIXES = {'payable': PAYABLE, 'receivable': RECEIVABLE}

# Omie's codigo_lancamento_integracao holds 20 characters
_CODE = re.compile(r'^NG(\d+)-(P|CP|CR|BX)-(\d+)$')


def make(integration, prefix, record_id):
    return 'NG%d-%s-%d' % (integration.id, prefix, record_id)


def parse(integration, code, prefix):
    "The id of the Tryton record of integration that code names, or None"
    match = _CODE.match((code or '').strip())
    if (not match or int(match.group(1)) != integration.id
            or match.group(2) != prefix):
        return None
    return int(match.group(3))
