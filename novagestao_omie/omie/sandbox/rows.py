# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""What the store keeps beside Omie's records: the rows of parsed titles
and invoices, Omie's status rule of the titles, and the value helpers the
store's writes share"""
import marshal

from . import faults
from .formats import money, parse_date, stamp_of

CENT = 0.005


def status_token(receivable, cancelled, value, principal, discount, due,
        today):
    """Omie's status_titulo rule, as a filter token (AVENCER, PAGO...).

    Closed titles: PAGO/RECEBIDO, or LIQUIDADO when closed with a discount
    (less money than the document value).  Open ones depend on the due date
    relative to ``today`` (Brasília), so they are derived at read time.
    """
    if cancelled:
        return 'CANCELADO'
    if principal >= value - CENT and value > 0:
        if discount > CENT:
            return 'LIQUIDADO'
        return 'RECEBIDO' if receivable else 'PAGO'
    if principal > CENT:
        return 'PAGTO_PARCIAL'
    if due is None or due > today:
        return 'AVENCER'
    if due == today:
        return 'VENCEHOJE'
    return 'ATRASADO'


SPACED = {'AVENCER': 'A VENCER', 'VENCEHOJE': 'VENCE HOJE'}


def spell(token, spelling):
    "Token -> status_titulo as printed ('A VENCER' or 'AVENCER' style)"
    if spelling == 'A VENCER':
        return SPACED.get(token, token)
    return token


def title_status(receivable, cancelled, value, principal, discount, due,
        today, spelling='A VENCER'):
    return spell(status_token(receivable, cancelled, value, principal,
        discount, due, today), spelling)


class TitleRow:
    "Parsed view of one payable/receivable, refreshed after every change"
    __slots__ = ('rec', 'receivable', 'id', 'code', 'due', 'emission',
        'previsao', 'registro', 'inc', 'alt', 'client', 'account',
        'cancelled', 'settlements', 'principal', 'paid', 'desconto',
        'juros', 'multa', 'last_payment', 'value', 'category', 'imported')

    def __init__(self, rec, receivable):
        self.rec = rec
        self.receivable = receivable
        self.settlements = []
        self.cancelled = rec.get('status_titulo') == 'CANCELADO'
        self.refresh()

    def refresh(self):
        rec = self.rec
        self.id = rec['codigo_lancamento_omie']
        self.code = rec.get('codigo_lancamento_integracao') or ''
        self.due = parse_date(rec.get('data_vencimento'))
        self.emission = parse_date(rec.get('data_emissao'))
        self.previsao = parse_date(rec.get('data_previsao')) or self.due
        self.registro = parse_date(rec.get('data_registro')
            or rec.get('data_entrada')) or self.emission
        info = rec.get('info') or {}
        self.inc = stamp_of(info.get('dInc'), info.get('hInc'))
        self.alt = stamp_of(info.get('dAlt'), info.get('hAlt')) or self.inc
        self.imported = info.get('cImpAPI') == 'S'
        self.client = rec.get('codigo_cliente_fornecedor') or 0
        self.account = rec.get('id_conta_corrente') or 0
        self.value = rec.get('valor_documento') or 0.0
        self.category = rec.get('codigo_categoria') or ''
        self.refresh_settlements()

    def refresh_settlements(self):
        principal = paid = desconto = juros = multa = 0.0
        last = None
        for s in self.settlements:
            paid += s['valor']
            desconto += s['desconto']
            juros += s['juros']
            multa += s['multa']
            principal += s['valor'] + s['desconto'] - s['juros'] - s['multa']
            day = parse_date(s['data'])
            if last is None or day > last:
                last = day
        self.principal = principal
        self.paid = money(paid)
        self.desconto = money(desconto)
        self.juros = money(juros)
        self.multa = money(multa)
        self.last_payment = last

    def token(self, today):
        return status_token(self.receivable, self.cancelled, self.value,
            self.principal, self.desconto, self.due, today)

    @property
    def open_amount(self):
        if self.cancelled:
            return 0.0
        return money(max(self.value - self.principal, 0.0))


class InvoiceRow:
    __slots__ = ('rec', 'id', 'number', 'emission', 'cancel', 'inc', 'alt',
        'client', 'reg', 'serie')

    def __init__(self, rec):
        self.rec = rec
        self.refresh()

    def refresh(self):
        rec = self.rec
        ide = rec['ide']
        self.id = rec['compl']['nIdNF']
        self.number = int(ide['nNF'] or 0)
        self.serie = ide.get('serie', '')
        self.emission = parse_date(ide['dEmi'])
        self.cancel = parse_date(ide.get('dCan'))
        self.reg = parse_date(ide.get('dReg'))
        info = rec.get('info') or {}
        self.inc = stamp_of(info.get('dInc'), info.get('hInc'))
        self.alt = stamp_of(info.get('dAlt'), info.get('hAlt')) or self.inc
        self.client = rec['nfDestInt']['nCodCli']


def bank_moved(settlement):
    """What a baixa moves in its bank account: the bank fee (tarifa) is
    withheld from a receipt and added to a payment"""
    fee = settlement.get('tarifa') or 0.0
    if settlement['natureza'] == 'R':
        return money(settlement['valor'] - fee)
    return money(settlement['valor'] + fee)


def clone(value):
    """Deep copy of plain JSON-like data; marshal does it at C speed"""
    return marshal.loads(marshal.dumps(value))


def title_topic(kind, action):
    return 'Financas.%s.%s' % (
        'ContaReceber' if kind == 'CR' else 'ContaPagar', action)


def parse_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def money_field(tag, value):
    if isinstance(value, bool):
        raise faults.validation('Valor inválido [%s] na tag [%s]!'
            % (value, tag))
    try:
        return money(value)
    except (TypeError, ValueError):
        raise faults.validation('Valor inválido [%s] na tag [%s]!'
            % (value, tag))
