# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""What Omie is sent of a Tryton party, invoice or payment: the
clientes_cadastro, conta_pagar/receber_cadastro and LancarPagamento /
LancarRecebimento parameters"""
from decimal import ROUND_HALF_UP, Decimal

from trytond.i18n import gettext
from trytond.pool import Pool

from . import codes
from .omie import records

CENT = Decimal('0.01')
PARTY_FIELDS = [
    ('document', "CNPJ/CPF"),
    ('email', "Email"),
    ('phone', "Phone"),
    ('address', "Address"),
    ('tags', "Client/Supplier Tags"),
    ]
INVOICE_FIELDS = [
    ('category', "Category"),
    ('document_number', "Document Number"),
    ('issue_date', "Issue Date"),
    ('observation', "Description"),
    ]
ROLE_TAGS = {'out': 'Cliente', 'in': 'Fornecedor'}


class ExportProblem(Exception):
    "A record that cannot be sent as it is: the user fixes it here"

    def __init__(self, message, fix, kind='validation'):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.kind = kind


def party_document(party):
    "The digits of the party's CNPJ or CPF, or ''"
    for identifier in party.identifiers:
        if identifier.type in {'br_vat', 'br_cpf'}:
            return records.only_digits(identifier.code)
    return ''


def party_payload(integration, party, roles):
    """The clientes_cadastro of UpsertCliente for party, with the fields the
    integration exports; roles are the invoice types ('in', 'out') the party
    is exported for"""
    chosen = set(integration.export_party_fields or [])
    payload = {
        'codigo_cliente_integracao': codes.make(
            integration, codes.PARTY, party.id),
        'razao_social': party.name[:60],
        'nome_fantasia': party.name[:100],
        }
    if 'document' in chosen:
        document = party_document(party)
        if document:
            payload['cnpj_cpf'] = document
            payload['pessoa_fisica'] = 'S' if len(document) == 11 else 'N'
    if 'email' in chosen and party.email:
        payload['email'] = party.email
    if 'phone' in chosen:
        phone = records.only_digits(party.phone or party.mobile or '')
        if phone.startswith('55') and len(phone) > 11:
            phone = phone[2:]
        if len(phone) >= 10:
            payload['telefone1_ddd'] = phone[:2]
            payload['telefone1_numero'] = phone[2:]
    if 'address' in chosen and party.addresses:
        payload.update(_address(party.addresses[0]))
    if 'tags' in chosen:
        tags = sorted({ROLE_TAGS[r] for r in roles if r in ROLE_TAGS})
        if tags:
            payload['tags'] = [{'tag': t} for t in tags]
    return payload


def _address(address):
    street, *rest = (address.street or '').splitlines() or ['']
    values = {
        'endereco': street.strip()[:60],
        'bairro': (rest[-1].strip() if rest else '')[:60],
        'cep': records.only_digits(address.postal_code or ''),
        'cidade': (address.city or '').strip()[:40],
        }
    subdivision = getattr(address, 'subdivision', None)
    if subdivision and subdivision.code:
        values['estado'] = subdivision.code.split('-')[-1]
    return {k: v for k, v in values.items() if v}


def money(value):
    return float(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def invoice_due_date(invoice):
    "The single due date of the invoice, or an ExportProblem"
    dates = sorted({l.maturity_date or l.date for l in invoice.lines_to_pay})
    if len(dates) != 1:
        raise ExportProblem(
            gettext('novagestao_omie.msg_export_instalments',
                invoice=invoice.rec_name, count=len(dates)),
            gettext('novagestao_omie.msg_export_instalments_fix'))
    return dates[0]


def title_payload(integration, invoice, party_omie_id, categories,
        bank_account_id):
    """The conta_pagar/receber_cadastro of invoice; categories is
    [(Omie category code, share of the untaxed amount)]"""
    chosen = set(integration.export_invoice_fields or [])
    kind = 'receivable' if invoice.type == 'out' else 'payable'
    due = invoice_due_date(invoice)
    total = invoice.total_amount
    payload = {
        'codigo_lancamento_integracao': codes.make(
            integration, codes.TITLE_PREFIXES[kind], invoice.id),
        'codigo_cliente_fornecedor': party_omie_id,
        'data_vencimento': records.format_date(due),
        'data_previsao': records.format_date(due),
        'valor_documento': money(total),
        'id_conta_corrente': bank_account_id,
        'numero_parcela': '001/001',
        }
    if 'category' in chosen and categories:
        if len(categories) == 1:
            payload['codigo_categoria'] = categories[0][0]
        else:
            split, left = [], total
            for index, (code, share) in enumerate(categories):
                value = (left if index == len(categories) - 1
                    else (total * share).quantize(CENT))
                left -= value
                split.append({'codigo_categoria': code,
                        'valor': money(value),
                        'percentual': float(round(share * 100, 4))})
            payload['categorias'] = split
    if 'document_number' in chosen:
        number = invoice.reference or invoice.number
        if number:
            payload['numero_documento'] = number[:20]
    if 'issue_date' in chosen and invoice.invoice_date:
        payload['data_emissao'] = records.format_date(invoice.invoice_date)
    if 'observation' in chosen and invoice.description:
        payload['observacao'] = invoice.description
    return payload


def invoice_categories(integration, invoice):
    """[(Omie category code, share)] of the invoice's lines, from the
    confirmed mappings onto their accounts; an ExportProblem names the
    first account no category maps to"""
    pool = Pool()
    Mapping = pool.get('integration.mapping')
    wanted = 'revenue' if invoice.type == 'out' else 'expense'
    amounts = {}
    for line in invoice.lines:
        if getattr(line, 'type', 'line') != 'line' or not line.account:
            continue
        amounts[line.account] = amounts.get(line.account, 0) + line.amount
    untaxed = sum(amounts.values())
    result = []
    for account, amount in sorted(amounts.items(), key=lambda i: i[0].id):
        mappings = Mapping.search([
                ('integration', '=', integration.id),
                ('state', '=', 'confirmed'),
                ('target', '=', str(account)),
                ], order=[('external_code', 'ASC')])
        # a category of the invoice's side first (revenue for a sale)
        mappings.sort(key=lambda m: m.external_type != wanted)
        if not mappings:
            raise ExportProblem(
                gettext('novagestao_omie.msg_export_no_category',
                    invoice=invoice.rec_name, account=account.rec_name),
                gettext('novagestao_omie.msg_export_no_category_fix',
                    account=account.rec_name),
                kind='category_not_mapped')
        share = (amount / untaxed) if untaxed else Decimal(1)
        result.append((mappings[0].external_code, share))
    return result


def settlement_payload(integration, line, title_omie_id, bank_account_id):
    "The LancarPagamento / LancarRecebimento parameters of a payment line"
    return {
        'codigo_lancamento': title_omie_id,
        'codigo_baixa_integracao': codes.make(
            integration, codes.SETTLEMENT, line.id),
        'codigo_conta_corrente': bank_account_id,
        'valor': money(abs(line.debit - line.credit)),
        'data': records.format_date(line.move.date),
        'observacao': (line.move.description or '')[:200],
        }
