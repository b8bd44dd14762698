"""Omie payloads parsed once into small typed records.

Omie speaks in 'dd/mm/aaaa' dates with separate 'hh:mm:ss' times, "S"/"N"
flags, "" for missing values, formatted CNPJ/CPF, amounts as numbers (or
strings), status tokens *and* spaced labels, and webhooks in ISO dates.
Everything past this module sees dates, bools, Decimals and canonical
status tokens only.

Parsers are tolerant of missing optional keys and of "" / None / 0, but
strict about values that are present and wrong: an invalid date raises a
ValueError naming the field (and the record), it never becomes None.

Every record keeps its original dict in ``raw`` and offers
``content_hash()`` to tell whether Omie's data changed since last import.
"""
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    'parse_date', 'parse_time', 'parse_datetime', 'parse_iso', 'parse_flag',
    'parse_decimal', 'parse_id', 'only_digits', 'format_date',
    'amount_problem', 'amount_problems', 'currency_code', 'AMOUNT_LIMIT',
    'normalise_status', 'content_hash',
    'Party', 'Category', 'BankAccount', 'CategorySplit', 'Title',
    'Settlement', 'StatementLine', 'Statement', 'AccountEntry', 'Invoice',
    'NF', 'settlements_from_webhook', 'parse_records', 'RECORD_PARSERS',
    'STATUSES', 'SETTLED_STATUSES', 'OPEN_STATUSES',
    ]

CENT = Decimal('0.01')
ZERO = Decimal('0.00')
BRAZIL = '1058'
BRASILIA = dt.timezone(dt.timedelta(hours=-3), 'BRT')

STATUSES = ('AVENCER', 'VENCEHOJE', 'ATRASADO', 'PAGO', 'RECEBIDO',
    'LIQUIDADO', 'CANCELADO', 'PAGTO_PARCIAL', 'EMABERTO')
SETTLED_STATUSES = frozenset({'PAGO', 'RECEBIDO', 'LIQUIDADO'})
# Open statuses that only depend on today's date: they change every day
# without anybody touching the title.
DATE_DERIVED_STATUSES = frozenset({'AVENCER', 'VENCEHOJE', 'ATRASADO'})
OPEN_STATUSES = DATE_DERIVED_STATUSES | {'EMABERTO', 'PAGTO_PARCIAL'}

# Squashed label (upper case, no accents, letters only) -> token.
_STATUS_ALIASES = {
    'AVENCER': 'AVENCER',
    'VENCEHOJE': 'VENCEHOJE', 'VENCENDOHOJE': 'VENCEHOJE',
    'ATRASADO': 'ATRASADO', 'VENCIDO': 'ATRASADO', 'EMATRASO': 'ATRASADO',
    'PAGO': 'PAGO', 'PAGA': 'PAGO',
    'RECEBIDO': 'RECEBIDO', 'RECEBIDA': 'RECEBIDO',
    'LIQUIDADO': 'LIQUIDADO', 'LIQUIDADA': 'LIQUIDADO',
    'CANCELADO': 'CANCELADO', 'CANCELADA': 'CANCELADO',
    'PAGTOPARCIAL': 'PAGTO_PARCIAL', 'PAGAMENTOPARCIAL': 'PAGTO_PARCIAL',
    'PAGOPARCIAL': 'PAGTO_PARCIAL', 'PARCIAL': 'PAGTO_PARCIAL',
    'RECEBIDOPARCIAL': 'PAGTO_PARCIAL', 'RECEBIMENTOPARCIAL': 'PAGTO_PARCIAL',
    'PARCIALMENTEPAGO': 'PAGTO_PARCIAL',
    'PARCIALMENTERECEBIDO': 'PAGTO_PARCIAL',
    'EMABERTO': 'EMABERTO', 'ABERTO': 'EMABERTO',
    }

_DATE_BR = re.compile(r'^(\d{1,2})/(\d{1,2})/(\d{4})$')
_DATE_ISO = re.compile(r'^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$')
_TIME = re.compile(r'^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$')
_EMPTY_DATES = {'00/00/0000', '0000-00-00', '00/00/00'}


# ---------------------------------------------------------------------------
# Scalar parsers

def clean_text(value):
    "Omie text as a stripped str ('' for None)"
    if value is None:
        return ''
    return str(value).strip()


def _fold(text):
    "Upper case without accents, for comparing labels"
    text = unicodedata.normalize('NFKD', clean_text(text))
    return ''.join(c for c in text if not unicodedata.combining(c)).upper()


def only_digits(value):
    "'11.222.333/0001-81' -> '11222333000181'"
    return re.sub(r'\D', '', clean_text(value))


def parse_date(value, field='date'):
    """'dd/mm/aaaa' -> date; '' / None / '00/00/0000' -> None.

    ISO dates (webhooks: '2023-05-31T00:00:00-03:00') give their own
    calendar date, which is Brasília's.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean_text(value)
    if not text or text in _EMPTY_DATES:
        return None
    match = _DATE_BR.match(text)
    if match:
        day, month, year = map(int, match.groups())
    else:
        match = _DATE_ISO.match(text)
        if not match:
            raise ValueError(
                f'{field}: invalid date {text!r} (expected dd/mm/aaaa)')
        year, month, day = map(int, match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(
            f'{field}: invalid date {text!r} (no such day)') from None


def parse_time(value, field='time'):
    "'hh:mm:ss' (or 'hh:mm') -> time; '' / None -> None"
    if value is None:
        return None
    if isinstance(value, dt.time):
        return value
    text = clean_text(value)
    if not text:
        return None
    match = _TIME.match(text)
    try:
        if not match:
            raise ValueError
        hour, minute, second = match.groups()
        return dt.time(int(hour), int(minute), int(second or 0))
    except ValueError:
        raise ValueError(
            f'{field}: invalid time {text!r} (expected hh:mm:ss)') from None


def parse_datetime(date_value, time_value=None, field='datetime'):
    """Omie's split date + time -> naive datetime on Brasília's clock.

    Omie's API dates carry no offset; they are kept naive (local to
    Omie) so that they compare with the dates sent back in filters.
    """
    date = parse_date(date_value, field)
    if date is None:
        return None
    time = parse_time(time_value, field) or dt.time()
    return dt.datetime.combine(date, time)


def parse_iso(value, field='datetime'):
    """Webhook ISO date ('2023-05-31T00:00:00-03:00') -> aware datetime.

    A value without offset (or a plain 'dd/mm/aaaa') is read as Brasília
    time.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time())
    else:
        text = clean_text(value)
        if not text or text in _EMPTY_DATES:
            return None
        if _DATE_BR.match(text):
            result = dt.datetime.combine(parse_date(text, field), dt.time())
        else:
            if text.endswith(('Z', 'z')):
                text = text[:-1] + '+00:00'
            try:
                result = dt.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f'{field}: invalid ISO date {text!r}'
                    ) from None
    if result.tzinfo is None:
        result = result.replace(tzinfo=BRASILIA)
    return result


def parse_flag(value, default=False):
    "'S' -> True, 'N' -> False; '' / None / unknown -> default"
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    folded = _fold(value)
    if folded in ('S', 'SIM', 'Y', 'YES', 'T', 'TRUE', '1'):
        return True
    if folded in ('N', 'NAO', 'NO', 'F', 'FALSE', '0'):
        return False
    return default


def _to_decimal(value, field):
    "Omie amount -> exact Decimal (not rounded); None when empty"
    if isinstance(value, bool):
        raise ValueError(f'{field}: invalid amount {value!r}')
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = clean_text(value).replace('R$', '').replace(' ', '')
    if not text:
        return None
    if ',' in text:
        if '.' in text and text.rfind('.') > text.rfind(','):
            text = text.replace(',', '')  # 1,520.35
        else:
            text = text.replace('.', '').replace(',', '.')  # 1.520,35
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f'{field}: invalid amount {value!r}') from None


def parse_decimal(value, field='amount', default=ZERO):
    """Omie amount (number or string) -> Decimal rounded to cents.

    Floats go through their shortest repr, so 1520.35 stays 1520.35;
    Brazilian formatted strings ('1.520,35') are accepted too.
    '' / None -> default.  Amounts that cannot be booked (too large, more
    than two decimals) are told by amount_problems(), not refused here.
    """
    number = _to_decimal(value, field)
    if number is None:
        return default
    if not number.is_finite():
        raise ValueError(f'{field}: invalid amount {value!r}')
    try:
        return number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f'{field}: amount out of range {value!r}') from None


# Amounts the integration books: below a trillion reais in absolute value
# (no title of a company Omie serves comes near it; 1e20 once came from a
# broken export and was posted), in whole cents.
AMOUNT_LIMIT = Decimal(10) ** 12
# Every key under which Omie sends an amount of a title, a settlement or a
# movement (lists, consults, ListarMovimentos, ListarExtrato, webhooks).
AMOUNT_KEYS = frozenset({
        'valor', 'valor_documento', 'valor_pag', 'valor_pago',
        'valor_recebido', 'valor_baixado', 'valor_aberto', 'juros', 'multa',
        'desconto', 'tarifa', 'nValorTitulo', 'nValorMovCC', 'nValPago',
        'nValAberto', 'nValLiquido', 'nJuros', 'nMulta', 'nDesconto',
        'nValorLanc', 'nValorDocumento', 'nValor', 'nDistrValor',
        'nValorCat', 'vNF', 'vProd',
        })
# Keys Omie could give a currency under; the facts sheet names none (Omie
# books in reais), so a record without one is in the company's currency.
CURRENCY_KEYS = ('codigo_moeda', 'moeda', 'cCodMoeda', 'cMoeda')
_REAL = {'BRL', 'R$', 'REAL', 'REAIS', '986'}


def amount_problem(value, field):
    """None when value is an amount that can be booked (or no amount),
    else (field, value as text, reason): reason 'too_large' (not finite or
    at least AMOUNT_LIMIT in absolute value) or 'decimals' (more than two;
    a float's binary noise below a billionth is not counted)"""
    try:
        number = _to_decimal(value, field)
    except ValueError:
        return None  # parse_decimal refuses it with its own error
    if number is None:
        return None
    text = clean_text(value) if not isinstance(value, float) else repr(value)
    if not number.is_finite() or abs(number) >= AMOUNT_LIMIT:
        return (field, text, 'too_large')
    cents = number.quantize(CENT, rounding=ROUND_HALF_UP)
    if number != cents and not (isinstance(value, float)
            and abs(number - cents) < Decimal('1e-9')):
        return (field, text, 'decimals')
    return None


def amount_problems(raw, _path=''):
    "The amount_problem of every amount found in an Omie record, in order"
    problems = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            path = f'{_path}.{key}' if _path else str(key)
            if isinstance(value, (dict, list)):
                problems.extend(amount_problems(value, path))
            elif key in AMOUNT_KEYS:
                problem = amount_problem(value, path)
                if problem:
                    problems.append(problem)
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            problems.extend(amount_problems(item, f'{_path}[{index}]'))
    return problems


def currency_code(raw):
    """ISO code of the currency an Omie record names ('BRL' for the real),
    or None when it names none"""
    if not isinstance(raw, dict):
        return None
    for data in (raw, raw.get('detalhes'), raw.get('cabecalho')):
        if not isinstance(data, dict):
            continue
        for key in CURRENCY_KEYS:
            code = clean_text(data.get(key)).upper()
            if code:
                return 'BRL' if code in _REAL else code
    return None


def _optional_decimal(value, field):
    if value is None or clean_text(value) == '':
        return None
    return parse_decimal(value, field)


def parse_id(value, field='id'):
    "Omie id -> int; '' / None / 0 -> None (Omie's 'no id')"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f'{field}: invalid id {value!r}')
        value = int(value)
    if isinstance(value, int):
        return value or None
    text = clean_text(value)
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f'{field}: invalid id {value!r}')
    return int(text) or None


def format_date(value):
    "date -> 'dd/mm/aaaa' as Omie expects it in filters; None -> ''"
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    return value.strftime('%d/%m/%Y')


def normalise_status(label):
    """Omie title status (token or label) -> canonical token.

    'A VENCER', 'AVENCER', 'A vencer' -> 'AVENCER'; 'Vence hoje' ->
    'VENCEHOJE'; 'PAGTO_PARCIAL' stays.  Unknown labels come back as an
    upper-case token (spaces to underscores); '' / None -> None.
    """
    folded = _fold(label)
    if not folded:
        return None
    squashed = re.sub(r'[^A-Z]', '', folded)
    if squashed in _STATUS_ALIASES:
        return _STATUS_ALIASES[squashed]
    return re.sub(r'[^A-Z0-9]+', '_', folded).strip('_')


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'),
        ensure_ascii=False, default=str)


def _without(value, volatile):
    if isinstance(value, dict):
        return {key: _without(item, volatile) for key, item in value.items()
            if key not in volatile}
    if isinstance(value, list):
        return [_without(item, volatile) for item in value]
    return value


def content_hash(payload, volatile=()):
    "Stable SHA-256 of a payload's canonical JSON, volatile keys left out"
    text = _canonical(_without(payload, frozenset(volatile)))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


@contextlib.contextmanager
def _parsing(record, data, id_key):
    "Name the record in parsing errors: 'Title 7000000001: data_…: …'"
    try:
        yield
    except ValueError as exc:
        ident = data.get(id_key) if isinstance(data, dict) else None
        label = f'{record} {ident}' if ident not in (None, '') else record
        raise ValueError(f'{label}: {exc}') from None


def _info_datetimes(info, prefix='info'):
    "(created_at, altered_at) from Omie's info{dInc,hInc,dAlt,hAlt}"
    info = info or {}
    created = parse_datetime(info.get('dInc'), info.get('hInc'),
        f'{prefix}.dInc')
    altered = parse_datetime(info.get('dAlt'), info.get('hAlt'),
        f'{prefix}.dAlt')
    return created, altered or created


class _Record:
    "Shared behaviour of the records; each declares its VOLATILE keys"
    __slots__ = ()
    VOLATILE = frozenset()

    def _hash_payload(self):
        return self.raw

    def content_hash(self):
        "Changes when Omie's data changes, not when volatile keys do"
        return content_hash(self._hash_payload(), self.VOLATILE)

    @property
    def amount_problems(self):
        "Amounts of the record that cannot be booked: see amount_problem"
        return amount_problems(self.raw)

    @property
    def currency(self):
        "ISO code of the record's currency, None for the company's"
        return currency_code(self.raw)

    def as_dict(self):
        "Fields except raw, for logs and comparisons"
        return {f.name: getattr(self, f.name)
            for f in dataclasses.fields(self) if f.name != 'raw'}


# ---------------------------------------------------------------------------
# Records

_CITY_UF = re.compile(r'\s*\(\s*[A-Za-z]{2}\s*\)\s*$')


def city_name(value):
    "The city of an Omie address without the state it may end with"
    return _CITY_UF.sub('', clean_text(value))


@dataclass(slots=True)
class Party(_Record):
    "A client/supplier (ListarClientes, ConsultarCliente, webhooks)"
    omie_id: int | None
    integration_code: str
    name: str
    trade_name: str
    document: str
    is_person: bool
    tags: list
    is_customer: bool
    is_supplier: bool
    active: bool
    email: str
    phones: list
    street: str
    number: str
    complement: str
    district: str
    city: str
    city_ibge: str
    state: str
    zip: str
    country_code: str
    foreign: bool
    state_registration: str
    municipal_registration: str
    created_at: dt.datetime | None
    altered_at: dt.datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_omie(cls, data):
        with _parsing('Party', data, 'codigo_cliente_omie'):
            tags = []
            for item in data.get('tags') or []:
                tag = clean_text(item.get('tag') if isinstance(item, dict)
                    else item)
                if tag:
                    tags.append(tag)
            folded_tags = {_fold(tag) for tag in tags}
            is_supplier = 'FORNECEDOR' in folded_tags
            # A register without a role tag is a plain customer.
            is_customer = 'CLIENTE' in folded_tags or not is_supplier
            document = only_digits(data.get('cnpj_cpf'))
            flag = clean_text(data.get('pessoa_fisica'))
            is_person = (parse_flag(flag) if flag
                else len(document) == 11)
            state = clean_text(data.get('estado')).upper()
            country = clean_text(data.get('codigo_pais'))
            if not country and state != 'EX':
                country = BRAZIL
            phones = []
            for prefix in ('telefone1', 'telefone2'):
                ddd = only_digits(data.get(f'{prefix}_ddd'))
                number = clean_text(data.get(f'{prefix}_numero'))
                if number:
                    phones.append(f'({ddd}) {number}' if ddd else number)
            city = clean_text(data.get('cidade'))
            city_ibge = only_digits(data.get('cidade_ibge'))
            if city.isdigit():  # IBGE code where a name was expected
                city_ibge, city = city_ibge or city, ''
            created, altered = _info_datetimes(data.get('info'))
            return cls(
                omie_id=parse_id(data.get('codigo_cliente_omie',
                        data.get('codigo_cliente')), 'codigo_cliente_omie'),
                integration_code=clean_text(data.get('codigo_cliente_integracao')),
                name=clean_text(data.get('razao_social')),
                trade_name=clean_text(data.get('nome_fantasia')),
                document=document,
                is_person=is_person,
                tags=tags,
                is_customer=is_customer,
                is_supplier=is_supplier,
                active=not parse_flag(data.get('inativo')),
                email=clean_text(data.get('email')),
                phones=phones,
                street=clean_text(data.get('endereco')),
                number=clean_text(data.get('endereco_numero')),
                complement=clean_text(data.get('complemento')),
                district=clean_text(data.get('bairro')),
                city=_CITY_UF.sub('', city),
                city_ibge=city_ibge,
                state=state,
                zip=only_digits(data.get('cep')),
                country_code=country,
                foreign=(state == 'EX' or parse_flag(data.get('exterior'))
                    or (country not in ('', BRAZIL))),
                state_registration=clean_text(data.get('inscricao_estadual')),
                municipal_registration=clean_text(
                    data.get('inscricao_municipal')),
                created_at=created,
                altered_at=altered,
                raw=data,
                )


@dataclass(slots=True)
class Category(_Record):
    "A revenue/expense category of Omie's chart (ListarCategorias)"
    code: str
    description: str
    is_revenue: bool
    is_expense: bool
    parent_code: str
    active: bool
    totalizing: bool
    transfer: bool
    hidden: bool
    nature: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_omie(cls, data):
        with _parsing('Category', data, 'codigo'):
            code = clean_text(data.get('codigo'))

            def role(flag_key, prefix):
                # The flag when Omie sends it; else Omie's numbering
                # convention (1.x revenue, 2.x expense).
                flag = clean_text(data.get(flag_key))
                return parse_flag(flag) if flag else code.startswith(prefix)

            parent = clean_text(data.get('categoria_superior'))
            if not parent and '.' in code:
                parent = code.rsplit('.', 1)[0]
            return cls(
                code=code,
                description=(clean_text(data.get('descricao'))
                    or clean_text(data.get('descricao_padrao'))),
                is_revenue=role('conta_receita', '1.'),
                is_expense=role('conta_despesa', '2.'),
                parent_code=parent,
                active=not parse_flag(data.get('conta_inativa')),
                totalizing=parse_flag(data.get('totalizadora')),
                transfer=parse_flag(data.get('transferencia')),
                hidden=parse_flag(data.get('nao_exibir')),
                nature=clean_text(data.get('natureza')),
                raw=data,
                )


@dataclass(slots=True)
class BankAccount(_Record):
    "A bank, cash or card account (ListarContasCorrentes / Resumo)"
    omie_id: int | None
    integration_code: str
    type: str
    bank_code: str
    agency: str
    number: str
    description: str
    initial_balance: Decimal
    initial_balance_date: dt.date | None
    credit_limit: Decimal
    active: bool
    is_cash: bool
    altered_at: dt.datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_omie(cls, data):
        with _parsing('BankAccount', data, 'nCodCC'):
            kind = clean_text(data.get('tipo_conta_corrente')
                or data.get('tipo')).upper()
            bank_code = clean_text(data.get('codigo_banco'))
            created = parse_datetime(data.get('data_inc'),
                data.get('hora_inc'), 'data_inc')
            altered = parse_datetime(data.get('data_alt'),
                data.get('hora_alt'), 'data_alt')
            return cls(
                omie_id=parse_id(data.get('nCodCC'), 'nCodCC'),
                integration_code=clean_text(data.get('cCodCCInt')),
                type=kind,
                bank_code=bank_code,
                agency=clean_text(data.get('codigo_agencia')),
                number=clean_text(data.get('numero_conta_corrente')
                    or data.get('conta_corrente')),
                description=clean_text(data.get('descricao')),
                initial_balance=parse_decimal(data.get('saldo_inicial'),
                    'saldo_inicial'),
                initial_balance_date=parse_date(data.get('saldo_data'),
                    'saldo_data'),
                credit_limit=parse_decimal(data.get('valor_limite'),
                    'valor_limite'),
                active=not parse_flag(data.get('inativo')),
                # 'CX' is Omie's cash type; bank 999 is its "no bank".
                is_cash=kind == 'CX' or bank_code == '999',
                altered_at=altered or created,
                raw=data,
                )


@dataclass(slots=True)
class CategorySplit:
    "One line of a title's category split (rateio)"
    code: str
    amount: Decimal
    percent: Decimal


def _splits(items, amount_keys, percent_keys, code_keys):
    splits = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        code = next((clean_text(item.get(k)) for k in code_keys
                if clean_text(item.get(k))), '')
        amount = next((item.get(k) for k in amount_keys
                if item.get(k) not in (None, '')), None)
        percent = next((item.get(k) for k in percent_keys
                if item.get(k) not in (None, '')), None)
        if code:
            splits.append(CategorySplit(code,
                    parse_decimal(amount, f'categorias.{code}.valor'),
                    parse_decimal(percent, f'categorias.{code}.percentual')))
    return splits


_KINDS = {'payable': 'payable', 'p': 'payable', 'cp': 'payable',
    'contapagar': 'payable', 'receivable': 'receivable', 'r': 'receivable',
    'cr': 'receivable', 'contareceber': 'receivable'}


def _kind(value):
    try:
        return _KINDS[clean_text(value).lower()]
    except KeyError:
        raise ValueError(f'unknown title kind {value!r} '
            "(expected 'payable' or 'receivable')") from None


# Keys only one side of Omie's titles has.
_PAYABLE_KEYS = ('data_entrada', 'cnab_integracao_bancaria', 'pagamento')
_RECEIVABLE_KEYS = ('data_registro', 'boleto', 'recebimento', 'nCodPedido')


def _guess_kind(data):
    origin = clean_text(data.get('id_origem')).upper()
    if len(origin) == 4 and origin[-1] in 'PR':  # APIP, NFER, …
        return 'payable' if origin[-1] == 'P' else 'receivable'
    if any(key in data for key in _PAYABLE_KEYS):
        return 'payable'
    if any(key in data for key in _RECEIVABLE_KEYS):
        return 'receivable'
    raise ValueError('cannot tell a payable from a receivable; pass kind')


def _amounts(status, amount, paid, open_):
    "Fill paid/open amounts Omie left out (or left at 0), from the status"
    if paid is None or (not paid and status in SETTLED_STATUSES):
        paid = amount if status in SETTLED_STATUSES else ZERO
    if open_ is None:
        if status in SETTLED_STATUSES or status == 'CANCELADO':
            open_ = ZERO
        else:
            open_ = max(amount - paid, ZERO)
    return paid, open_


@dataclass(slots=True)
class Title(_Record):
    """A payable or receivable title (ListarContasPagar/Receber, their
    webhooks, or a ListarMovimentos row)"""
    kind: str
    omie_id: int | None
    integration_code: str
    party_omie_id: int | None
    document_number: str
    fiscal_number: str
    nfe_key: str
    instalment: str
    issue_date: dt.date | None
    due_date: dt.date | None
    forecast_date: dt.date | None
    amount: Decimal
    category_code: str
    categories: list
    bank_account_omie_id: int | None
    status: str | None
    paid_amount: Decimal
    open_amount: Decimal
    observation: str
    document_type: str
    origin: str
    created_at: dt.datetime | None
    altered_at: dt.datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def cancelled(self):
        return self.status == 'CANCELADO'

    @property
    def settled(self):
        return self.status in SETTLED_STATUSES

    def _hash_payload(self):
        # "A vencer" turns into "Vence hoje" and "Atrasado" as days pass,
        # with no edit in Omie: not a change worth re-importing.
        raw = dict(self.raw)
        for key in ('status_titulo', 'situacao'):
            if normalise_status(raw.get(key)) in DATE_DERIVED_STATUSES:
                raw[key] = 'EMABERTO'
        return raw

    @classmethod
    def payable(cls, data):
        "A conta_pagar_cadastro (ListarContasPagar, its webhooks)"
        return cls.from_omie(data, 'payable')

    @classmethod
    def receivable(cls, data):
        "A conta_receber_cadastro (ListarContasReceber, its webhooks)"
        return cls.from_omie(data, 'receivable')

    @classmethod
    def from_omie(cls, data, kind=None):
        """A conta_pagar_cadastro / conta_receber_cadastro (or webhook
        event); without kind it is read from the record when it tells"""
        with _parsing('Title', data, 'codigo_lancamento_omie'):
            kind = _kind(kind) if kind is not None else _guess_kind(data)
            amount = parse_decimal(data.get('valor_documento'),
                'valor_documento')
            status = normalise_status(data.get('status_titulo')
                or data.get('situacao'))
            paid = next((_optional_decimal(data.get(key), key) for key in
                    ('valor_pag', 'valor_pago', 'valor_recebido',
                        'valor_baixado')
                    if clean_text(data.get(key)) != ''), None)
            open_ = _optional_decimal(data.get('valor_aberto'),
                'valor_aberto')
            paid, open_ = _amounts(status, amount, paid, open_)
            splits = _splits(data.get('categorias'), ('valor',),
                ('percentual',), ('codigo_categoria',))
            due = parse_date(data.get('data_vencimento'), 'data_vencimento')
            created, altered = _info_datetimes(data.get('info'))
            return cls(
                kind=kind,
                omie_id=parse_id(data.get('codigo_lancamento_omie'),
                    'codigo_lancamento_omie'),
                integration_code=clean_text(
                    data.get('codigo_lancamento_integracao')),
                party_omie_id=parse_id(data.get('codigo_cliente_fornecedor'),
                    'codigo_cliente_fornecedor'),
                document_number=clean_text(data.get('numero_documento')),
                fiscal_number=clean_text(data.get('numero_documento_fiscal')),
                nfe_key=only_digits(data.get('chave_nfe')),
                instalment=clean_text(data.get('numero_parcela')),
                issue_date=parse_date(data.get('data_emissao'),
                    'data_emissao'),
                due_date=due,
                forecast_date=parse_date(data.get('data_previsao'),
                    'data_previsao') or due,
                amount=amount,
                category_code=(clean_text(data.get('codigo_categoria'))
                    or (splits[0].code if splits else '')),
                categories=splits,
                bank_account_omie_id=parse_id(data.get('id_conta_corrente'),
                    'id_conta_corrente'),
                status=status,
                paid_amount=paid,
                open_amount=open_,
                observation=clean_text(data.get('observacao')),
                document_type=clean_text(data.get('codigo_tipo_documento')),
                origin=clean_text(data.get('id_origem')),
                created_at=created,
                altered_at=altered,
                raw=data,
                )

    @classmethod
    def from_movement(cls, movement):
        "A ListarMovimentos (financas/mf) item: {detalhes, resumo, …}"
        details = movement.get('detalhes') or {}
        summary = movement.get('resumo') or {}
        with _parsing('Title', details, 'nCodTitulo'):
            kind = 'payable' if clean_text(details.get('cNatureza')).upper() == \
                'P' else 'receivable'
            amount = parse_decimal(details.get('nValorTitulo'),
                'nValorTitulo')
            status = normalise_status(details.get('cStatus'))
            paid, open_ = _amounts(status, amount,
                _optional_decimal(summary.get('nValPago'), 'nValPago'),
                _optional_decimal(summary.get('nValAberto'), 'nValAberto'))
            splits = _splits(movement.get('categorias'),
                ('nDistrValor', 'nValorCat', 'nValor', 'valor'),
                ('nDistrPercentual', 'nPerc', 'percentual'),
                ('cCodCateg', 'codigo_categoria'))
            due = parse_date(details.get('dDtVenc'), 'dDtVenc')
            created = parse_datetime(details.get('dDtInc'),
                details.get('cHrInc'), 'dDtInc')
            altered = parse_datetime(details.get('dDtAlt'),
                details.get('cHrAlt'), 'dDtAlt')
            return cls(
                kind=kind,
                omie_id=parse_id(details.get('nCodTitulo'), 'nCodTitulo'),
                integration_code=clean_text(details.get('cCodIntTitulo')),
                party_omie_id=parse_id(details.get('nCodCliente'),
                    'nCodCliente'),
                document_number=clean_text(details.get('cNumTitulo')),
                fiscal_number=clean_text(details.get('cNumDocFiscal')),
                nfe_key=only_digits(details.get('cChaveNFe')),
                instalment=clean_text(details.get('cNumParcela')),
                issue_date=parse_date(details.get('dDtEmissao'),
                    'dDtEmissao'),
                due_date=due,
                forecast_date=parse_date(details.get('dDtPrevisao'),
                    'dDtPrevisao') or due,
                amount=amount,
                category_code=(clean_text(details.get('cCodCateg'))
                    or (splits[0].code if splits else '')),
                categories=splits,
                bank_account_omie_id=parse_id(details.get('nCodCC'),
                    'nCodCC'),
                status=status,
                paid_amount=paid,
                open_amount=open_,
                observation=clean_text(details.get('observacao')),
                document_type=clean_text(details.get('cTipo')),
                origin=clean_text(details.get('cOrigem')),
                created_at=created,
                altered_at=altered or created,
                raw=movement,
                )


@dataclass(slots=True)
class Settlement(_Record):
    """A payment/receipt of a title (baixa): from a ListarMovimentos item
    or from a BaixaRealizada webhook item"""
    omie_id: int | None
    integration_code: str
    kind: str
    title_omie_id: int | None
    title_omie_ids: tuple
    party_omie_id: int | None
    bank_account_omie_id: int | None
    date: dt.date | None
    credit_date: dt.date | None
    amount: Decimal
    interest: Decimal
    fine: Decimal
    discount: Decimal
    fee: Decimal
    observation: str
    reconciled_date: dt.date | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_movement(cls, movement):
        """A ListarMovimentos item that is a settlement (has nCodBaixa);
        None for the other movements"""
        details = movement.get('detalhes') or {}
        summary = movement.get('resumo') or {}
        with _parsing('Settlement', details, 'nCodBaixa'):
            omie_id = parse_id(details.get('nCodBaixa'), 'nCodBaixa')
            if omie_id is None:
                return None

            def money(key):
                # detalhes first; resumo repeats some of them.
                value = details.get(key)
                if value in (None, ''):
                    value = summary.get(key)
                return parse_decimal(value, key)

            kind = ('payable' if clean_text(details.get('cNatureza')).upper()
                == 'P' else 'receivable')
            amount, fee = _listed_settlement_amounts(kind,
                _optional_decimal(details.get('nValorMovCC'), 'nValorMovCC'),
                _optional_decimal(summary.get('nValPago'), 'nValPago'),
                _optional_decimal(summary.get('nValLiquido'), 'nValLiquido'))
            title = parse_id(details.get('nCodTitulo'), 'nCodTitulo')
            return cls(
                omie_id=omie_id,
                integration_code=clean_text(details.get('cCodIntBaixa')),
                kind=kind,
                title_omie_id=title,
                title_omie_ids=(title,) if title else (),
                party_omie_id=parse_id(details.get('nCodCliente'),
                    'nCodCliente'),
                bank_account_omie_id=parse_id(details.get('nCodCC'),
                    'nCodCC'),
                date=parse_date(details.get('dDtPagamento'), 'dDtPagamento'),
                credit_date=parse_date(details.get('dDtCredito'),
                    'dDtCredito'),
                amount=amount,
                interest=money('nJuros'),
                fine=money('nMulta'),
                discount=money('nDesconto'),
                fee=fee,
                observation='',
                reconciled_date=parse_date(details.get('dDtConcilia'),
                    'dDtConcilia'),
                raw=movement,
                )

    @classmethod
    def from_webhook(cls, item, topic=None):
        "One item of a …BaixaRealizada event"
        with _parsing('Settlement', item, 'codigo_baixa'):
            if item.get('conta_a_pagar') is not None:
                kind, titles = 'payable', item.get('conta_a_pagar')
            elif item.get('conta_a_receber') is not None:
                kind, titles = 'receivable', item.get('conta_a_receber')
            else:
                kind = ('payable' if 'ContaPagar' in (topic or '')
                    else 'receivable')
                titles = []
            if isinstance(titles, dict):
                titles = [titles]
            title_ids = tuple(filter(None, (
                        parse_id(t.get('codigo_lancamento_omie'),
                            'codigo_lancamento_omie')
                        for t in titles if isinstance(t, dict))))
            if not title_ids and item.get('codigo_lancamento_omie'):
                title_ids = (parse_id(item['codigo_lancamento_omie'],
                        'codigo_lancamento_omie'),)
            return cls(
                omie_id=parse_id(item.get('codigo_baixa'), 'codigo_baixa'),
                integration_code=clean_text(item.get('codigo_baixa_integracao')),
                kind=kind,
                title_omie_id=title_ids[0] if title_ids else None,
                title_omie_ids=title_ids,
                party_omie_id=parse_id(item.get('codigo_cliente_fornecedor'),
                    'codigo_cliente_fornecedor'),
                bank_account_omie_id=parse_id(
                    item.get('codigo_conta_corrente'),
                    'codigo_conta_corrente'),
                date=parse_date(item.get('data'), 'data'),
                credit_date=parse_date(item.get('data_cred'), 'data_cred'),
                amount=parse_decimal(item.get('valor'), 'valor'),
                interest=parse_decimal(item.get('juros'), 'juros'),
                fine=parse_decimal(item.get('multa'), 'multa'),
                discount=parse_decimal(item.get('desconto'), 'desconto'),
                fee=parse_decimal(item.get('tarifa'), 'tarifa'),
                observation=clean_text(item.get('observacao')),
                reconciled_date=None,
                raw=item,
                )


def _listed_settlement_amounts(kind, moved, paid, net):
    """(amount paid, bank fee) of a settlement read from ListarMovimentos

    nValorMovCC is what the bank account moved and the summary's nValPago
    what the title was paid.  When the summary is the settlement's own (its
    nValLiquido is that same movement), a difference is the bank fee
    (tarifa): withheld from a receipt, added to a payment.  Otherwise the
    movement alone is the amount, as when the summary is the whole title's."""
    if not moved:
        return (paid or ZERO), ZERO
    if paid and net is not None and abs(net) == abs(moved):
        fee = (paid - abs(moved) if kind == 'receivable'
            else abs(moved) - paid)
        if ZERO < fee < paid:
            return paid, fee
    return moved, ZERO


def settlements_from_webhook(payload, topic=None):
    """Settlements of a BaixaRealizada webhook.

    payload is the whole delivery ({topic, event, …}) or just its event,
    which Omie sends as a list for these topics (a dict is accepted).
    """
    event = payload
    if isinstance(payload, dict) and 'event' in payload:
        topic = topic or payload.get('topic')
        event = payload['event']
    if isinstance(event, dict):
        event = [event]
    return [Settlement.from_webhook(item, topic) for item in event or []
        if isinstance(item, dict)]


_BALANCE_MARKERS = {'SALDO', 'SALDO ANTERIOR', 'SALDO ATUAL', 'SALDO FINAL',
    'SALDO INICIAL'}


def _is_balance_marker(row):
    "ListarExtrato's 'SALDO ANTERIOR' / 'SALDO' rows are not movements"
    label = ' '.join(_fold(row.get('cDesCliente')).split())
    if label not in _BALANCE_MARKERS:
        return False
    return (not clean_text(row.get('cSituacao'))
        or parse_id(row.get('nCodLancamento'), 'nCodLancamento') is None)


@dataclass(slots=True)
class StatementLine(_Record):
    "One movement of a ListarExtrato statement (amount signed)"
    omie_id: int | None
    date: dt.date | None
    amount: Decimal
    balance: Decimal | None
    party_omie_id: int | None
    party_name: str
    party_document: str
    document: str
    document_type: str
    fiscal_document: str
    instalment: str
    description: str
    observation: str
    category: str
    category_description: str
    title_omie_id: int | None
    origin: str
    nature: str
    situation: str
    forecast: bool
    reconciled: bool
    reconciled_date: dt.date | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    # Running balances move when an earlier line changes.
    VOLATILE = frozenset({'nSaldo', 'nSaldoPrev'})

    @classmethod
    def from_omie(cls, row):
        with _parsing('StatementLine', row, 'nCodLancamento'):
            situation = clean_text(row.get('cSituacao'))
            reconciled_date = parse_date(row.get('dDataConciliacao'),
                'dDataConciliacao')
            party_name = (clean_text(row.get('cRazCliente'))
                or clean_text(row.get('cDesCliente')))
            observation = clean_text(row.get('cObservacoes'))
            return cls(
                omie_id=parse_id(row.get('nCodLancamento'),
                    'nCodLancamento'),
                date=parse_date(row.get('dDataLancamento'),
                    'dDataLancamento'),
                amount=parse_decimal(row.get('nValorDocumento'),
                    'nValorDocumento'),
                balance=_optional_decimal(row.get('nSaldo'), 'nSaldo'),
                party_omie_id=parse_id(row.get('nCodCliente'),
                    'nCodCliente'),
                party_name=party_name,
                party_document=only_digits(row.get('cDocCliente')),
                document=clean_text(row.get('cNumero')),
                document_type=clean_text(row.get('cTipoDocumento')),
                fiscal_document=clean_text(row.get('cDocumentoFiscal')),
                instalment=clean_text(row.get('cParcela')),
                description=(clean_text(row.get('cDesCliente')) or party_name
                    or observation or clean_text(row.get('cDesCategoria'))),
                observation=observation,
                category=clean_text(row.get('cCodCategoria')),
                category_description=clean_text(row.get('cDesCategoria')),
                title_omie_id=parse_id(row.get('nCodLancRelac'),
                    'nCodLancRelac'),
                origin=clean_text(row.get('cOrigem')),
                nature=clean_text(row.get('cNatureza')),
                situation=situation,
                forecast=_fold(situation) == 'PREVISTO',
                reconciled=(_fold(situation) == 'CONCILIADO'
                    or reconciled_date is not None),
                reconciled_date=reconciled_date,
                raw=row,
                )


@dataclass(slots=True)
class Statement(_Record):
    """A ListarExtrato answer: one account over one period.

    lines are the realised movements; forecast_lines the "Previsto" rows
    Omie adds for open titles expected in the period (they are not in the
    balances and are no bank movement).
    """
    account_omie_id: int | None
    account_integration_code: str
    bank_code: str
    agency: str
    account_number: str
    description: str
    start_date: dt.date | None
    end_date: dt.date | None
    opening_balance: Decimal
    closing_balance: Decimal
    lines: list
    forecast_lines: list
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    VOLATILE = StatementLine.VOLATILE

    @property
    def total(self):
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def balanced(self):
        "Opening balance plus the lines gives the closing balance"
        return self.opening_balance + self.total == self.closing_balance

    @classmethod
    def from_omie(cls, data):
        with _parsing('Statement', data, 'nCodCC'):
            lines, forecasts, opening, closing = [], [], None, None
            for row in data.get('listaMovimentos') or []:
                if not isinstance(row, dict):
                    continue
                if _is_balance_marker(row):
                    label = ' '.join(_fold(row.get('cDesCliente')).split())
                    value = row.get('nSaldo')
                    if value in (None, ''):
                        value = row.get('nValorDocumento')
                    if label in ('SALDO ANTERIOR', 'SALDO INICIAL'):
                        opening = _optional_decimal(value, label)
                    else:
                        closing = _optional_decimal(value, label)
                    continue
                line = StatementLine.from_omie(row)
                (forecasts if line.forecast else lines).append(line)
            # The header balances win; the marker rows are the fallback.
            header_opening = _optional_decimal(data.get('nSaldoAnterior'),
                'nSaldoAnterior')
            header_closing = _optional_decimal(data.get('nSaldoAtual'),
                'nSaldoAtual')
            opening = (header_opening if header_opening is not None
                else opening if opening is not None else ZERO)
            total = sum((line.amount for line in lines), ZERO)
            closing = (header_closing if header_closing is not None
                else closing if closing is not None else opening + total)
            return cls(
                account_omie_id=parse_id(data.get('nCodCC'), 'nCodCC'),
                account_integration_code=clean_text(data.get('cCodIntCC')),
                bank_code=clean_text(data.get('nCodBanco')),
                agency=clean_text(data.get('nCodAgencia')),
                account_number=clean_text(data.get('nNumConta')),
                description=clean_text(data.get('cDescricao')),
                start_date=parse_date(data.get('dPeriodoInicial'),
                    'dPeriodoInicial'),
                end_date=parse_date(data.get('dPeriodoFinal'),
                    'dPeriodoFinal'),
                opening_balance=opening,
                closing_balance=closing,
                lines=lines,
                forecast_lines=forecasts,
                raw=data,
                )


@dataclass(slots=True)
class AccountEntry(_Record):
    "A current-account entry (ListarLancCC); amount as typed, see signed"
    omie_id: int | None
    integration_code: str
    group_omie_id: int | None
    bank_account_omie_id: int | None
    date: dt.date | None
    amount: Decimal
    nature: str
    category: str
    categories: list
    type: str
    document: str
    party_omie_id: int | None
    observation: str
    transfer_account_omie_id: int | None
    origin: str
    reconciled_date: dt.date | None
    payable_omie_id: int | None
    receivable_omie_id: int | None
    created_at: dt.datetime | None
    altered_at: dt.datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def signed_amount(self):
        "Money out (nature P) negative, money in positive"
        return -abs(self.amount) if self.nature == 'P' else self.amount

    @classmethod
    def from_omie(cls, data):
        with _parsing('AccountEntry', data, 'nCodLanc'):
            header = data.get('cabecalho') or {}
            details = data.get('detalhes') or {}
            various = data.get('diversos') or {}
            transfer = data.get('transferencia') or {}
            categories = _splits(details.get('aCodCateg'),
                ('nValor', 'valor'), ('nPerc', 'percentual'),
                ('cCodCateg', 'codigo_categoria'))
            created, altered = _info_datetimes(data.get('info'))
            return cls(
                omie_id=parse_id(data.get('nCodLanc'), 'nCodLanc'),
                integration_code=clean_text(data.get('cCodIntLanc')),
                group_omie_id=parse_id(data.get('nCodAgrup'), 'nCodAgrup'),
                bank_account_omie_id=parse_id(header.get('nCodCC'),
                    'cabecalho.nCodCC'),
                date=parse_date(header.get('dDtLanc'), 'cabecalho.dDtLanc'),
                amount=parse_decimal(header.get('nValorLanc'),
                    'cabecalho.nValorLanc'),
                nature=clean_text(various.get('cNatureza')).upper(),
                category=(clean_text(details.get('cCodCateg'))
                    or (categories[0].code if categories else '')),
                categories=categories,
                type=clean_text(details.get('cTipo')),
                document=clean_text(details.get('cNumDoc')),
                party_omie_id=parse_id(details.get('nCodCliente'),
                    'detalhes.nCodCliente'),
                observation=clean_text(details.get('cObs')),
                transfer_account_omie_id=parse_id(
                    transfer.get('nCodCCDestino'),
                    'transferencia.nCodCCDestino'),
                origin=clean_text(various.get('cOrigem')),
                reconciled_date=parse_date(various.get('dDtConc'),
                    'diversos.dDtConc'),
                payable_omie_id=parse_id(various.get('nCodLancCP'),
                    'diversos.nCodLancCP'),
                receivable_omie_id=parse_id(various.get('nCodLancCR'),
                    'diversos.nCodLancCR'),
                created_at=created,
                altered_at=altered,
                raw=data,
                )


@dataclass(slots=True)
class Invoice(_Record):
    "A product invoice, NF-e (ListarNF / ConsultarNF)"
    omie_id: int | None
    number: str
    series: str
    key: str
    model: str
    direction: str
    issue_date: dt.date | None
    issued_at: dt.datetime | None
    cancelled: bool
    cancel_date: dt.date | None
    party_omie_id: int | None
    party_integration_code: str
    party_name: str
    party_document: str
    total: Decimal
    products_total: Decimal
    order_omie_id: int | None
    category_code: str
    title_omie_ids: list
    altered_at: dt.datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_omie(cls, data):
        ide = data.get('ide') or {}
        compl = data.get('compl') or {}
        with _parsing('Invoice', compl, 'nIdNF'):
            dest = data.get('nfDestInt') or {}
            totals = (data.get('total') or {}).get('ICMSTot') or {}
            cancel_date = parse_date(ide.get('dCan'), 'ide.dCan')
            titles = [parse_id(t.get('nCodTitulo'), 'titulos.nCodTitulo')
                for t in data.get('titulos') or [] if isinstance(t, dict)]
            direction = {'0': 'in', '1': 'out'}.get(clean_text(ide.get('tpNF')),
                '')
            _, altered = _info_datetimes(data.get('info'))
            return cls(
                omie_id=parse_id(compl.get('nIdNF', data.get('nIdNF')),
                    'compl.nIdNF'),
                number=clean_text(ide.get('nNF')),
                series=clean_text(ide.get('serie')),
                key=only_digits(compl.get('cChaveNFe')),
                model=clean_text(ide.get('mod')),
                direction=direction,
                issue_date=parse_date(ide.get('dEmi'), 'ide.dEmi'),
                issued_at=parse_datetime(ide.get('dEmi'), ide.get('hEmi'),
                    'ide.dEmi'),
                cancelled=cancel_date is not None,
                cancel_date=cancel_date,
                party_omie_id=parse_id(dest.get('nCodCli'),
                    'nfDestInt.nCodCli'),
                party_integration_code=clean_text(dest.get('cCodCliInt')),
                party_name=clean_text(dest.get('cRazao')),
                party_document=only_digits(dest.get('cnpj_cpf')),
                total=parse_decimal(totals.get('vNF'), 'total.ICMSTot.vNF'),
                products_total=parse_decimal(totals.get('vProd'),
                    'total.ICMSTot.vProd'),
                order_omie_id=parse_id(compl.get('nIdPedido'),
                    'compl.nIdPedido'),
                category_code=clean_text(compl.get('cCodCateg')),
                title_omie_ids=[t for t in titles if t],
                altered_at=altered,
                raw=data,
                )


NF = Invoice

# List call -> parser of one of its records.
RECORD_PARSERS = {
    'ListarClientes': Party.from_omie,
    'ConsultarCliente': Party.from_omie,
    'ListarCategorias': Category.from_omie,
    'ConsultarCategoria': Category.from_omie,
    'ListarContasCorrentes': BankAccount.from_omie,
    'ListarResumoContasCorrentes': BankAccount.from_omie,
    'ListarContasPagar': Title.payable,
    'ConsultarContaPagar': Title.payable,
    'ListarContasReceber': Title.receivable,
    'ConsultarContaReceber': Title.receivable,
    'ListarExtrato': Statement.from_omie,
    'ListarLancCC': AccountEntry.from_omie,
    'ListarNF': Invoice.from_omie,
    'ConsultarNF': Invoice.from_omie,
    }


def parse_records(call, items):
    "Parse the records a list call returned (client.iterate output)"
    parser = RECORD_PARSERS[call]
    for item in items:
        yield parser(item)
