"""Tests of the parsing of Omie payloads into typed records."""
import datetime as dt
import unittest
from decimal import Decimal

from novagestao_omie.omie import records
from novagestao_omie.omie.records import (
    AccountEntry, BankAccount, Category, Invoice, Party, Settlement,
    Statement, Title, format_date, normalise_status, only_digits, parse_date,
    parse_datetime, parse_decimal, parse_flag, parse_id, parse_iso,
    parse_time, settlements_from_webhook)

BRT = dt.timezone(dt.timedelta(hours=-3))

PARTY = {
    'codigo_cliente_omie': 5001234567,
    'codigo_cliente_integracao': 'CLI-0001',
    'razao_social': 'Exemplo Comercio Ltda',
    'nome_fantasia': 'Exemplo',
    'cnpj_cpf': '11.222.333/0001-81',
    'pessoa_fisica': 'N',
    'email': 'financeiro@exemplo.com.br',
    'telefone1_ddd': '11', 'telefone1_numero': '3333-4444',
    'telefone2_ddd': '', 'telefone2_numero': '',
    'endereco': 'Rua A', 'endereco_numero': '10', 'complemento': 'Sala 2',
    'bairro': 'Centro',
    'estado': 'SP',
    'cidade': 'SAO PAULO (SP)',
    'cidade_ibge': '3550308',
    'cep': '01310-100',
    'codigo_pais': '1058',
    'inativo': 'N',
    'tags': [{'tag': 'Cliente'}, {'tag': 'Fornecedor'}],
    'info': {'dInc': '05/02/2024', 'hInc': '09:10:11', 'uInc': 'WEBSERVICE',
        'dAlt': '06/03/2024', 'hAlt': '17:00:01', 'uAlt': 'P000000001',
        'cImpAPI': 'S'},
    }

PAYABLE = {
    'codigo_lancamento_omie': 7000000001,
    'codigo_lancamento_integracao': 'AP-2024-0001',
    'codigo_cliente_fornecedor': 5001234567,
    'data_emissao': '01/07/2024',
    'data_vencimento': '15/07/2024',
    'data_previsao': '',
    'valor_documento': 1520.35,
    'codigo_categoria': '2.04.01',
    'id_conta_corrente': 6000000001,
    'numero_documento': 'NF 4821',
    'numero_documento_fiscal': '4821',
    'numero_parcela': '001/003',
    'chave_nfe': '3524 0711 2223 3300 0181 5500 1000 0048 2110 0000 4821',
    'status_titulo': 'A VENCER',
    'observacao': ' aluguel ',
    'info': {'dInc': '01/07/2024', 'hInc': '08:00:00', 'dAlt': '',
        'hAlt': ''},
    }


class ScalarTest(unittest.TestCase):

    def test_parse_date(self):
        self.assertEqual(parse_date('05/02/2024'), dt.date(2024, 2, 5))
        self.assertEqual(parse_date('5/2/2024'), dt.date(2024, 2, 5))
        self.assertEqual(parse_date('2023-05-31T00:00:00-03:00'),
            dt.date(2023, 5, 31))
        for empty in ('', '  ', None, '00/00/0000'):
            self.assertIsNone(parse_date(empty))
        for wrong in ('31/02/2024', '2024/02/05', 'amanhã', '05-02-2024'):
            with self.subTest(wrong=wrong):
                with self.assertRaises(ValueError) as raised:
                    parse_date(wrong, 'data_vencimento')
                self.assertIn('data_vencimento', str(raised.exception))

    def test_parse_time_and_datetime(self):
        self.assertEqual(parse_time('17:00:01'), dt.time(17, 0, 1))
        self.assertEqual(parse_time('09:10'), dt.time(9, 10))
        self.assertIsNone(parse_time(''))
        self.assertRaises(ValueError, parse_time, '25:00:00')
        self.assertEqual(parse_datetime('06/03/2024', '17:00:01'),
            dt.datetime(2024, 3, 6, 17, 0, 1))
        self.assertEqual(parse_datetime('06/03/2024', ''),
            dt.datetime(2024, 3, 6))
        self.assertIsNone(parse_datetime('', '17:00:01'))

    def test_parse_iso(self):
        value = parse_iso('2023-05-31T00:00:00-03:00')
        self.assertEqual(value, dt.datetime(2023, 5, 31, tzinfo=BRT))
        self.assertEqual(value.utcoffset(), dt.timedelta(hours=-3))
        self.assertEqual(parse_iso('2023-05-31T03:00:00Z'), value)
        self.assertEqual(parse_iso('2023-05-31T00:00:00'), value)
        self.assertEqual(parse_iso('31/05/2023'), value)
        self.assertIsNone(parse_iso(''))
        self.assertRaises(ValueError, parse_iso, 'ontem')

    def test_parse_flag(self):
        for yes in ('S', 's', ' S ', 'Sim', True, 1):
            self.assertIs(parse_flag(yes), True, yes)
        for no in ('N', 'n', 'Não', False, 0, '', None):
            self.assertIs(parse_flag(no), False, no)
        self.assertIs(parse_flag('', default=True), True)

    def test_parse_decimal(self):
        cases = {1520.35: '1520.35', '1520.35': '1520.35',
            '1.520,35': '1520.35', '1,520.35': '1520.35', 10: '10.00',
            0.1 + 0.2: '0.30', '2.665': '2.67', -99.999: '-100.00',
            '': '0.00', None: '0.00', 'R$ 10,5': '10.50'}
        for value, expected in cases.items():
            with self.subTest(value=value):
                result = parse_decimal(value)
                self.assertEqual(result, Decimal(expected))
                self.assertEqual(str(result), expected)
        with self.assertRaises(ValueError) as raised:
            parse_decimal('dez', 'valor_documento')
        self.assertIn('valor_documento', str(raised.exception))
        self.assertRaises(ValueError, parse_decimal, float('nan'))

    def test_amount_problem(self):
        cases = [
            (1520.35, None),
            (0.1 + 0.2, None),  # a float's binary noise is not a decimal
            ('1.520,35', None),
            (999999999999.99, None),
            (-999999999999.99, None),
            ('', None),
            (None, None),
            (1e20, 'too_large'),
            (-1e12, 'too_large'),
            ('1e999999', 'too_large'),
            (1520.355, 'decimals'),
            ('10,005', 'decimals'),
            (Decimal('0.001'), 'decimals'),
            ]
        for value, reason in cases:
            with self.subTest(value=value):
                problem = records.amount_problem(value, 'valor')
                self.assertEqual(problem and problem[2], reason)
        self.assertEqual(records.parse_decimal(1e20), Decimal('1E+20'))
        with self.assertRaises(ValueError):
            records.parse_decimal('1e999999')

    def test_amount_problems_and_currency_of_a_record(self):
        raw = {'valor_documento': 100.0, 'valor_pis': 1.234,
            'categorias': [{'valor': 60.005}, {'valor': 39.995}],
            'detalhes': {'nJuros': 2e13}}
        self.assertEqual(records.amount_problems(raw), [
                ('categorias[0].valor', '60.005', 'decimals'),
                ('categorias[1].valor', '39.995', 'decimals'),
                ('detalhes.nJuros', '20000000000000.0', 'too_large'),
                ])
        self.assertIsNone(records.currency_code(raw))
        self.assertEqual(records.currency_code({'moeda': 'R$'}), 'BRL')
        self.assertEqual(
            records.currency_code({'detalhes': {'cCodMoeda': 'usd'}}), 'USD')

    def test_ids_digits_and_formatting(self):
        self.assertEqual(parse_id('11268650821'), 11268650821)
        self.assertEqual(parse_id(3396594400.0), 3396594400)
        for empty in (0, '0', '', None):
            self.assertIsNone(parse_id(empty))
        self.assertRaises(ValueError, parse_id, 'abc')
        self.assertEqual(only_digits('11.222.333/0001-81'), '11222333000181')
        self.assertEqual(only_digits(None), '')
        self.assertEqual(format_date(dt.date(2026, 1, 5)), '05/01/2026')
        self.assertEqual(format_date(None), '')

    def test_normalise_status(self):
        cases = {
            'A VENCER': 'AVENCER', 'AVENCER': 'AVENCER', 'A vencer': 'AVENCER',
            'Vence hoje': 'VENCEHOJE', 'VENCEHOJE': 'VENCEHOJE',
            'ATRASADO': 'ATRASADO', 'Atrasado': 'ATRASADO',
            'Vencido': 'ATRASADO', 'PAGO': 'PAGO', 'Pago': 'PAGO',
            'RECEBIDO': 'RECEBIDO', 'Liquidado': 'LIQUIDADO',
            'CANCELADO': 'CANCELADO', 'Cancelada': 'CANCELADO',
            'PAGTO_PARCIAL': 'PAGTO_PARCIAL', 'Pagto Parcial': 'PAGTO_PARCIAL',
            'Pagamento parcial': 'PAGTO_PARCIAL', 'EMABERTO': 'EMABERTO',
            'Em aberto': 'EMABERTO', 'Em  Análise': 'EM_ANALISE',
            }
        for label, token in cases.items():
            with self.subTest(label=label):
                self.assertEqual(normalise_status(label), token)
        self.assertIsNone(normalise_status(''))
        self.assertIsNone(normalise_status(None))


class PartyTest(unittest.TestCase):

    def test_full_record(self):
        party = Party.from_omie(PARTY)
        self.assertEqual(party.omie_id, 5001234567)
        self.assertEqual(party.integration_code, 'CLI-0001')
        self.assertEqual(party.name, 'Exemplo Comercio Ltda')
        self.assertEqual(party.trade_name, 'Exemplo')
        self.assertEqual(party.document, '11222333000181')
        self.assertFalse(party.is_person)
        self.assertEqual(party.tags, ['Cliente', 'Fornecedor'])
        self.assertTrue(party.is_customer and party.is_supplier)
        self.assertTrue(party.active)
        self.assertEqual(party.phones, ['(11) 3333-4444'])
        self.assertEqual((party.street, party.number, party.complement,
                party.district), ('Rua A', '10', 'Sala 2', 'Centro'))
        self.assertEqual((party.city, party.city_ibge, party.state,
                party.zip), ('SAO PAULO', '3550308', 'SP', '01310100'))
        self.assertEqual(party.country_code, '1058')
        self.assertFalse(party.foreign)
        self.assertEqual(party.created_at, dt.datetime(2024, 2, 5, 9, 10, 11))
        self.assertEqual(party.altered_at, dt.datetime(2024, 3, 6, 17, 0, 1))
        self.assertIs(party.raw, PARTY)
        self.assertFalse(hasattr(party, '__dict__'))  # slots

    def test_roles_from_tags(self):
        def roles(tags):
            party = Party.from_omie({'codigo_cliente_omie': 1,
                    'tags': [{'tag': tag} for tag in tags]})
            return party.is_customer, party.is_supplier
        self.assertEqual(roles(['Fornecedor']), (False, True))
        self.assertEqual(roles(['fornecedor', 'Transportadora']),
            (False, True))
        self.assertEqual(roles(['Cliente']), (True, False))
        self.assertEqual(roles([]), (True, False))
        self.assertEqual(roles(['VIP']), (True, False))

    def test_tolerant_minimal_and_foreign(self):
        party = Party.from_omie({'codigo_cliente_omie': '42',
                'cnpj_cpf': '123.456.789-09', 'estado': 'EX',
                'cidade': 'Lisboa', 'inativo': 'S', 'info': {}})
        self.assertEqual(party.omie_id, 42)
        self.assertTrue(party.is_person)  # 11 digits, no flag
        self.assertTrue(party.foreign)
        self.assertFalse(party.active)
        self.assertEqual(party.city, 'Lisboa')
        self.assertIsNone(party.altered_at)
        self.assertTrue(Party.from_omie({'codigo_pais': '1600'}).foreign)

    def test_invalid_date_names_record_and_field(self):
        data = dict(PARTY, info={'dAlt': '32/01/2024'})
        with self.assertRaises(ValueError) as raised:
            Party.from_omie(data)
        self.assertIn('5001234567', str(raised.exception))
        self.assertIn('info.dAlt', str(raised.exception))


class CategoryAndAccountTest(unittest.TestCase):

    def test_category(self):
        category = Category.from_omie({'codigo': '2.04.01',
                'descricao': 'Aluguel', 'conta_despesa': 'S',
                'conta_receita': 'N', 'conta_inativa': 'N',
                'totalizadora': 'N', 'transferencia': 'N',
                'categoria_superior': '2.04'})
        self.assertEqual((category.code, category.description,
                category.parent_code), ('2.04.01', 'Aluguel', '2.04'))
        self.assertTrue(category.is_expense)
        self.assertFalse(category.is_revenue)
        self.assertTrue(category.active)

    def test_category_without_flags_uses_the_numbering(self):
        revenue = Category.from_omie({'codigo': '1.01.02',
                'descricao_padrao': 'Vendas', 'conta_inativa': 'S'})
        self.assertTrue(revenue.is_revenue)
        self.assertFalse(revenue.is_expense)
        self.assertFalse(revenue.active)
        self.assertEqual(revenue.parent_code, '1.01')
        self.assertEqual(revenue.description, 'Vendas')
        group = Category.from_omie({'codigo': '0.01', 'totalizadora': 'S',
                'transferencia': 'S'})
        self.assertTrue(group.totalizing and group.transfer)

    def test_bank_account(self):
        account = BankAccount.from_omie({'nCodCC': 6000000001,
                'cCodCCInt': 'CC-1', 'tipo_conta_corrente': 'CC',
                'codigo_banco': '001', 'codigo_agencia': '1234-5',
                'numero_conta_corrente': '99999-0',
                'descricao': 'Banco do Brasil', 'saldo_inicial': 1000.5,
                'saldo_data': '31/12/2025', 'inativo': 'N',
                'data_alt': '02/01/2026', 'hora_alt': '10:00:00'})
        self.assertEqual(account.omie_id, 6000000001)
        self.assertEqual(account.initial_balance, Decimal('1000.50'))
        self.assertEqual(account.initial_balance_date, dt.date(2025, 12, 31))
        self.assertFalse(account.is_cash)
        self.assertTrue(account.active)
        self.assertEqual(account.altered_at, dt.datetime(2026, 1, 2, 10))
        cash = BankAccount.from_omie({'nCodCC': 2, 'tipo': 'CX',
                'codigo_banco': '999', 'conta_corrente': '1'})
        self.assertTrue(cash.is_cash)
        self.assertEqual(cash.number, '1')


class TitleTest(unittest.TestCase):

    def test_payable(self):
        title = Title.from_omie(PAYABLE, 'payable')
        self.assertEqual(title.kind, 'payable')
        self.assertEqual((title.omie_id, title.integration_code,
                title.party_omie_id), (7000000001, 'AP-2024-0001',
                5001234567))
        self.assertEqual((title.document_number, title.fiscal_number,
                title.instalment), ('NF 4821', '4821', '001/003'))
        self.assertEqual(len(title.nfe_key), 44)
        self.assertEqual(title.issue_date, dt.date(2024, 7, 1))
        self.assertEqual(title.due_date, dt.date(2024, 7, 15))
        self.assertEqual(title.forecast_date, title.due_date)
        self.assertEqual(title.amount, Decimal('1520.35'))
        self.assertEqual(title.category_code, '2.04.01')
        self.assertEqual(title.bank_account_omie_id, 6000000001)
        self.assertEqual(title.status, 'AVENCER')
        self.assertEqual((title.paid_amount, title.open_amount),
            (Decimal('0.00'), Decimal('1520.35')))
        self.assertEqual(title.observation, 'aluguel')
        self.assertEqual(title.altered_at, dt.datetime(2024, 7, 1, 8))

    def test_paid_open_amounts_and_splits(self):
        title = Title.from_omie({'codigo_lancamento_omie': '8',
                'valor_documento': '300', 'status_titulo': 'PAGTO_PARCIAL',
                'valor_pag': '100.10', 'categorias': [
                    {'codigo_categoria': '1.01.01', 'valor': 200,
                        'percentual': 66.67},
                    {'codigo_categoria': '1.01.02', 'valor': 100,
                        'percentual': 33.33}]}, 'receivable')
        self.assertEqual(title.paid_amount, Decimal('100.10'))
        self.assertEqual(title.open_amount, Decimal('199.90'))
        self.assertEqual(title.category_code, '1.01.01')
        self.assertEqual([(s.code, s.amount) for s in title.categories],
            [('1.01.01', Decimal('200.00')), ('1.01.02', Decimal('100.00'))])
        paid = Title.from_omie({'valor_documento': 50,
                'status_titulo': 'RECEBIDO'}, 'receivable')
        self.assertEqual((paid.paid_amount, paid.open_amount),
            (Decimal('50.00'), Decimal('0.00')))
        self.assertTrue(paid.settled)
        cancelled = Title.from_omie({'valor_documento': 50,
                'status_titulo': 'CANCELADO'}, 'payable')
        self.assertEqual(cancelled.open_amount, Decimal('0.00'))
        self.assertTrue(cancelled.cancelled)

    def test_webhook_event(self):
        title = Title.from_omie({'codigo_lancamento_omie': 7000000001,
                'codigo_lancamento_integracao': 'AP-2024-0001',
                'codigo_cliente_fornecedor': 5001234567,
                'codigo_categoria': '2.04.01',
                'data_vencimento': '2024-07-15T00:00:00-03:00',
                'valor_documento': 1520.35,
                'id_conta_corrente': 6000000001,
                'situacao': 'A vencer'}, 'payable')
        self.assertEqual(title.due_date, dt.date(2024, 7, 15))
        self.assertEqual(title.status, 'AVENCER')

    def test_invalid_values_are_reported(self):
        with self.assertRaises(ValueError) as raised:
            Title.from_omie(dict(PAYABLE, data_vencimento='31/06/2024'),
                'payable')
        message = str(raised.exception)
        self.assertIn('7000000001', message)
        self.assertIn('data_vencimento', message)
        self.assertRaises(ValueError, Title.from_omie, PAYABLE, 'other')

    def test_kind_from_the_record(self):
        self.assertEqual(Title.from_omie(dict(PAYABLE, id_origem='NFEP')
                ).kind, 'payable')
        self.assertEqual(Title.from_omie({'id_origem': 'VENR'}).kind,
            'receivable')
        self.assertEqual(Title.from_omie({'boleto': {}}).kind, 'receivable')
        self.assertEqual(Title.payable(PAYABLE).kind, 'payable')
        self.assertEqual(Title.receivable(PAYABLE).kind, 'receivable')
        with self.assertRaises(ValueError) as raised:
            Title.from_omie(PAYABLE)
        self.assertIn('kind', str(raised.exception))

    def test_content_hash(self):
        title = Title.from_omie(PAYABLE, 'payable')
        reordered = Title.from_omie(dict(reversed(list(PAYABLE.items()))),
            'payable')
        self.assertEqual(title.content_hash(), reordered.content_hash())
        # Days passing turn "A VENCER" into "ATRASADO" without an edit.
        late = Title.from_omie(dict(PAYABLE, status_titulo='ATRASADO'),
            'payable')
        self.assertEqual(title.content_hash(), late.content_hash())
        for change in ({'valor_documento': 1520.36},
                {'status_titulo': 'PAGO'}, {'data_vencimento': '16/07/2024'}):
            changed = Title.from_omie(dict(PAYABLE, **change), 'payable')
            self.assertNotEqual(title.content_hash(), changed.content_hash(),
                change)

    def test_from_movement_and_parse_records(self):
        movement = {'detalhes': {'nCodTitulo': 9, 'cNatureza': 'R',
                'cStatus': 'RECEBIDO', 'nValorTitulo': 80.0,
                'dDtVenc': '10/10/2026', 'nCodCliente': 5, 'nCodCC': 6,
                'cNumParcela': '002/002', 'cCodCateg': '1.01.01',
                'dDtAlt': '11/10/2026', 'cHrAlt': '12:00:00'},
            'resumo': {'cLiquidado': 'S', 'nValPago': 80.0,
                'nValAberto': 0}}
        title = Title.from_movement(movement)
        self.assertEqual((title.kind, title.omie_id, title.status,
                title.paid_amount, title.open_amount), ('receivable', 9,
                'RECEBIDO', Decimal('80.00'), Decimal('0.00')))
        self.assertEqual(title.altered_at, dt.datetime(2026, 10, 11, 12))
        parsed = list(records.parse_records('ListarContasPagar', [PAYABLE]))
        self.assertEqual(parsed[0].omie_id, 7000000001)


class SettlementTest(unittest.TestCase):

    def test_from_movement(self):
        movement = {'detalhes': {'nCodTitulo': 7000000001, 'cNatureza': 'P',
                'nCodBaixa': 8100000001, 'dDtPagamento': '20/07/2024',
                'dDtCredito': '21/07/2024', 'nValorMovCC': 1530.35,
                'nJuros': 15.0, 'nMulta': 5.0, 'nDesconto': 10.0,
                'nCodCC': 6000000001, 'nCodCliente': 5001234567,
                'dDtConcilia': ''},
            'resumo': {'nValPago': 1520.35}}
        settlement = Settlement.from_movement(movement)
        self.assertEqual((settlement.omie_id, settlement.title_omie_id,
                settlement.kind), (8100000001, 7000000001, 'payable'))
        self.assertEqual(settlement.date, dt.date(2024, 7, 20))
        self.assertEqual(settlement.amount, Decimal('1530.35'))
        self.assertEqual((settlement.interest, settlement.fine,
                settlement.discount), (Decimal('15.00'), Decimal('5.00'),
                Decimal('10.00')))
        self.assertEqual(settlement.bank_account_omie_id, 6000000001)
        self.assertIsNone(settlement.reconciled_date)
        self.assertIsNone(Settlement.from_movement({'detalhes': {
                        'nCodTitulo': 1, 'nCodBaixa': 0}}))

    def test_from_movement_bank_fee(self):
        "A settlement's own summary tells its bank fee (tarifa)"
        def movement(nature, moved, paid, net):
            return {'detalhes': {'nCodTitulo': 1, 'cNatureza': nature,
                    'nCodBaixa': 2, 'dDtPagamento': '20/07/2024',
                    'nValorMovCC': moved},
                'resumo': {'nValPago': paid, 'nValLiquido': net}}
        for nature, moved, paid, net, amount, fee in [
                ('R', 97.5, 100.0, 97.5, '100.00', '2.50'),
                ('P', 102.5, 100.0, 102.5, '100.00', '2.50'),
                ('R', 100.0, 100.0, 100.0, '100.00', '0.00'),
                # a summary of the whole title: the movement alone counts
                ('R', 40.0, 100.0, 100.0, '40.00', '0.00'),
                # a fee that would be more than what was paid is no fee
                ('P', 250.0, 100.0, 250.0, '250.00', '0.00'),
                ]:
            with self.subTest(nature=nature, moved=moved, paid=paid):
                settlement = Settlement.from_movement(
                    movement(nature, moved, paid, net))
                self.assertEqual((settlement.amount, settlement.fee),
                    (Decimal(amount), Decimal(fee)))

    def test_from_webhook(self):
        delivery = {'messageId': 'x', 'topic':
            'Financas.ContaReceber.BaixaRealizada', 'event': [{
                'codigo_baixa': 8200000001, 'codigo_baixa_integracao': 'B1',
                'codigo_cliente_fornecedor': 5001234567,
                'codigo_conta_corrente': 6000000001,
                'conta_a_receber': [{'codigo_lancamento_omie': 7100000001,
                        'data_vencimento': '2024-07-15T00:00:00-03:00',
                        'valor_documento': 100}],
                'data': '2024-07-16T00:00:00-03:00', 'data_cred': '',
                'desconto': 0, 'juros': 1.5, 'multa': '2', 'tarifa': 0.9,
                'valor': 103.5, 'observacao': 'pix'}]}
        settlement, = settlements_from_webhook(delivery)
        self.assertEqual((settlement.omie_id, settlement.kind,
                settlement.title_omie_id, settlement.title_omie_ids),
            (8200000001, 'receivable', 7100000001, (7100000001,)))
        self.assertEqual(settlement.date, dt.date(2024, 7, 16))
        self.assertEqual((settlement.amount, settlement.interest,
                settlement.fine, settlement.fee), (Decimal('103.50'),
                Decimal('1.50'), Decimal('2.00'), Decimal('0.90')))
        self.assertEqual(settlement.integration_code, 'B1')
        payable = settlements_from_webhook({'codigo_baixa': 1, 'valor': 1},
            topic='Financas.ContaPagar.BaixaRealizada')
        self.assertEqual(payable[0].kind, 'payable')


class StatementTest(unittest.TestCase):

    def statement(self, **header):
        data = {'nCodCC': 6000000001, 'cDescricao': 'Banco',
            'dPeriodoInicial': '01/07/2024', 'dPeriodoFinal': '31/07/2024',
            'nSaldoAnterior': 1000.0, 'nSaldoAtual': 1079.65,
            'listaMovimentos': [
                {'cDesCliente': 'SALDO ANTERIOR', 'nSaldo': 1000.0,
                    'dDataLancamento': '30/06/2024', 'nCodLancamento': 0},
                {'nCodLancamento': 11, 'nCodLancRelac': 7100000001,
                    'cSituacao': 'Conciliado',
                    'dDataLancamento': '05/07/2024',
                    'cDesCliente': 'Cliente A',
                    'cRazCliente': 'Cliente A Ltda',
                    'nCodCliente': 5, 'cDocCliente': '11.222.333/0001-81',
                    'nValorDocumento': 100.0, 'nSaldo': 1100.0,
                    'cCodCategoria': '1.01.01', 'cNumero': '123',
                    'dDataConciliacao': '06/07/2024'},
                {'nCodLancamento': 12, 'cSituacao': 'Pendente',
                    'dDataLancamento': '10/07/2024', 'cDesCliente': 'Fornec',
                    'nValorDocumento': -20.35, 'nSaldo': 1079.65,
                    'dDataConciliacao': ''},
                # An open title expected in the period: not a movement.
                {'nCodLancamento': 7000000009, 'cSituacao': 'Previsto',
                    'dDataLancamento': '20/07/2024', 'cDesCliente': 'Fornec',
                    'nValorDocumento': -300.0, 'nSaldo': 1079.65,
                    'nSaldoPrev': 779.65},
                {'cDesCliente': 'SALDO', 'nSaldo': 1079.65,
                    'dDataLancamento': '31/07/2024'},
                ]}
        data.update(header)
        return Statement.from_omie({k: v for k, v in data.items()
                if v is not None})

    def test_marker_rows_are_dropped(self):
        statement = self.statement()
        self.assertEqual([line.omie_id for line in statement.lines],
            [11, 12])
        self.assertEqual([line.omie_id for line in statement.forecast_lines],
            [7000000009])
        self.assertTrue(statement.forecast_lines[0].forecast)
        self.assertEqual((statement.opening_balance,
                statement.closing_balance), (Decimal('1000.00'),
                Decimal('1079.65')))
        self.assertTrue(statement.balanced)
        self.assertEqual((statement.start_date, statement.end_date),
            (dt.date(2024, 7, 1), dt.date(2024, 7, 31)))
        first, second = statement.lines
        self.assertEqual(first.amount, Decimal('100.00'))
        self.assertEqual(second.amount, Decimal('-20.35'))
        self.assertTrue(first.reconciled)
        self.assertFalse(second.reconciled)
        self.assertEqual((first.party_omie_id, first.party_name,
                first.party_document, first.title_omie_id, first.category),
            (5, 'Cliente A Ltda', '11222333000181', 7100000001, '1.01.01'))

    def test_balances_from_marker_rows_when_header_lacks_them(self):
        statement = self.statement(nSaldoAnterior=None, nSaldoAtual=None)
        self.assertEqual((statement.opening_balance,
                statement.closing_balance), (Decimal('1000.00'),
                Decimal('1079.65')))

    def test_empty_statement(self):
        statement = Statement.from_omie({'nCodCC': 1, 'listaMovimentos': []})
        self.assertEqual(statement.lines, [])
        self.assertTrue(statement.balanced)

    def test_running_balance_is_volatile(self):
        line = self.statement().lines[0]
        moved = records.StatementLine.from_omie(dict(line.raw, nSaldo=5))
        self.assertEqual(line.content_hash(), moved.content_hash())
        changed = records.StatementLine.from_omie(dict(line.raw,
                nValorDocumento=101))
        self.assertNotEqual(line.content_hash(), changed.content_hash())


class AccountEntryAndInvoiceTest(unittest.TestCase):

    def test_account_entry(self):
        entry = AccountEntry.from_omie({'nCodLanc': 3, 'cCodIntLanc': 'L3',
                'cabecalho': {'nCodCC': 6, 'dDtLanc': '02/02/2026',
                    'nValorLanc': 45.9},
                'detalhes': {'cCodCateg': '2.01.01', 'cTipo': 'DIN',
                    'cNumDoc': 'X', 'nCodCliente': 5, 'cObs': 'tarifa'},
                'transferencia': {'nCodCCDestino': 0},
                'diversos': {'cOrigem': 'MANP', 'cNatureza': 'P',
                    'dDtConc': ''},
                'info': {'dInc': '02/02/2026', 'hInc': '08:00:00'}})
        self.assertEqual((entry.omie_id, entry.bank_account_omie_id,
                entry.date, entry.amount, entry.signed_amount),
            (3, 6, dt.date(2026, 2, 2), Decimal('45.90'), Decimal('-45.90')))
        self.assertIsNone(entry.transfer_account_omie_id)
        self.assertEqual(entry.category, '2.01.01')

    def test_invoice(self):
        invoice = Invoice.from_omie({
            'ide': {'nNF': 4821, 'serie': '1', 'mod': '55',
                'dEmi': '01/07/2024', 'hEmi': '10:11:12', 'tpNF': '1',
                'dCan': ''},
            'nfDestInt': {'nCodCli': 5001234567, 'cCodCliInt': 'CLI-0001',
                'cRazao': 'Exemplo', 'cnpj_cpf': '11.222.333/0001-81'},
            'total': {'ICMSTot': {'vNF': 1520.35, 'vProd': 1500}},
            'compl': {'nIdNF': 9000000001, 'cChaveNFe': '3524' + '0' * 40,
                'nIdPedido': 0, 'cCodCateg': '1.01.01'},
            'titulos': [{'nCodTitulo': 7100000001},
                {'nCodTitulo': 7100000002}],
            })
        self.assertEqual((invoice.omie_id, invoice.number, invoice.series,
                invoice.direction), (9000000001, '4821', '1', 'out'))
        self.assertEqual(invoice.issued_at,
            dt.datetime(2024, 7, 1, 10, 11, 12))
        self.assertFalse(invoice.cancelled)
        self.assertEqual(invoice.total, Decimal('1520.35'))
        self.assertEqual(invoice.party_document, '11222333000181')
        self.assertEqual(invoice.title_omie_ids, [7100000001, 7100000002])
        self.assertIsNone(invoice.order_omie_id)
        cancelled = Invoice.from_omie({'ide': {'dCan': '02/07/2024'},
                'compl': {'nIdNF': 1}})
        self.assertTrue(cancelled.cancelled)
        self.assertIs(records.NF, Invoice)


if __name__ == '__main__':
    unittest.main()
