# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The writes of the store's payables and receivables (Incluir, Alterar,
Upsert, Cancelar, Excluir, LancarRecebimento/Pagamento and their
cancellation) and the webhook events they send"""
from . import faults, shapes
from .formats import format_date, is_yes, iso_brazil, money, parse_date
from .rows import (
    CENT, TitleRow, clone, money_field, parse_int, title_topic)


class TitleWrites:
    "The titles part of the Store"

    def _title_input(self, kind, data, row=None):
        "Validate and normalise conta_pagar/receber_cadastro fields"
        out = {}
        for key, value in data.items():
            if key in ('codigo_lancamento_omie', 'info', 'status_titulo',
                    'valor_pag', 'pagamento', 'recebimento'):
                continue
            out[key] = value
        party_code = out.get('codigo_cliente_fornecedor_integracao')
        if not out.get('codigo_cliente_fornecedor') and party_code:
            party = self.party_by_code.get(str(party_code))
            if party is None:
                raise faults.validation('Cliente/Fornecedor não cadastrado '
                    'para o Código de Integração [%s] !' % party_code)
            out['codigo_cliente_fornecedor'] = party['codigo_cliente_omie']
        if 'codigo_cliente_fornecedor' in out:
            party = self.party_by_id.get(
                parse_int(out['codigo_cliente_fornecedor']))
            if party is None:
                raise faults.validation('Cliente/Fornecedor [%s] não '
                    'encontrado! Verifique a tag [codigo_cliente_fornecedor].'
                    % out['codigo_cliente_fornecedor'])
            out['codigo_cliente_fornecedor'] = party['codigo_cliente_omie']
            out['codigo_cliente_fornecedor_integracao'] = \
                party.get('codigo_cliente_integracao', '')
        for key in ('data_vencimento', 'data_previsao', 'data_emissao',
                'data_entrada', 'data_registro'):
            if key in out and out[key] not in (None, ''):
                try:
                    out[key] = format_date(parse_date(out[key]))
                except ValueError:
                    raise faults.bad_date(key, out[key])
        if 'valor_documento' in out:
            value = money_field('valor_documento', out['valor_documento'])
            if value <= 0:
                raise faults.validation('O valor do documento deve ser maior '
                    'que zero!')
            out['valor_documento'] = value
        if out.get('codigo_categoria'):
            self._check_category(out['codigo_categoria'])
        if out.get('categorias'):
            rateio = []
            for item in out['categorias']:
                code = item.get('codigo_categoria', '')
                self._check_category(code)
                rateio.append({'codigo_categoria': code,
                    'valor': money(item.get('valor') or 0),
                    'percentual': float(item.get('percentual') or 0)})
            out['categorias'] = rateio
        if 'id_conta_corrente' in out and out['id_conta_corrente']:
            account = self.account_by_id.get(
                parse_int(out['id_conta_corrente']))
            if account is None:
                raise faults.validation('Conta corrente [%s] não cadastrada! '
                    'Verifique a tag [id_conta_corrente].'
                    % out['id_conta_corrente'])
            out['id_conta_corrente'] = account['nCodCC']
        for key in list(out):
            if key.startswith('valor_') and key != 'valor_documento':
                out[key] = money_field(key, out[key])
        return out

    def _check_category(self, code):
        category = self.category_by_code.get(code)
        if category is None or category['totalizadora'] == 'S':
            raise faults.validation(
                'Categoria [%s] não cadastrada ou não permite lançamentos!'
                % code)

    def include_title(self, kind, data):
        for tag in ('codigo_lancamento_integracao',
                'codigo_cliente_fornecedor',
                'data_vencimento', 'valor_documento'):
            if tag == 'codigo_cliente_fornecedor' and \
                    data.get('codigo_cliente_fornecedor_integracao'):
                continue
            if data.get(tag) in (None, '', 0):
                raise faults.required(tag)
        code = str(data['codigo_lancamento_integracao'])
        if code in self.title_by_code[kind]:
            raise faults.validation('Lançamento já cadastrado para o Código '
                'de Integração [%s] !' % code)
        record = self.adopt(clone(self._title_input(kind, data)))
        if not record.get('id_conta_corrente'):
            raise faults.validation('A tag [id_conta_corrente] não foi '
                'informada e o cliente/fornecedor não possui conta corrente '
                'padrão!')
        today = format_date(self.today())
        record.setdefault('data_previsao', record['data_vencimento'])
        record.setdefault('data_emissao', today)
        record.setdefault('numero_parcela', '001/001')
        if kind == 'CP':
            record.setdefault('data_entrada', today)
        else:
            record.setdefault('data_registro', today)
        if record.get('codigo_categoria') and not record.get('categorias'):
            record['categorias'] = [{
                'codigo_categoria': record['codigo_categoria'],
                'valor': record['valor_documento'], 'percentual': 100.0}]
        elif record.get('categorias') and not record.get('codigo_categoria'):
            record['codigo_categoria'] = record['categorias'][0][
                'codigo_categoria']
        record['codigo_lancamento_integracao'] = code
        record['codigo_lancamento_omie'] = self.new_id()
        record['id_origem'] = 'APIR' if kind == 'CR' else 'APIP'
        record['importado_api'] = 'S'
        record['status_titulo'] = ''
        record['info'] = self.touch({}, created=True)
        row = TitleRow(record, kind == 'CR')
        self.titles[kind].append(row)
        self.title_by_id[row.id] = row
        self.title_by_code[kind][code] = row
        self.changed(title_topic(kind, 'Incluido'),
            self.title_event(row))
        inline = data.get('pagamento' if kind == 'CP' else 'recebimento')
        if isinstance(inline, dict) and inline.get('valor'):
            self.settle(kind, dict(inline, codigo_lancamento=row.id))
        return row

    def alter_title(self, kind, data, key_from_code=False):
        row = self.title(kind, None if key_from_code else
            data.get('codigo_lancamento_omie'),
            data.get('codigo_lancamento_integracao'))
        return self.update_title(row, data)

    def update_title(self, row, data, topic=True):
        kind = 'CR' if row.receivable else 'CP'
        changes = self._title_input(kind, data, row)
        changes.pop('codigo_lancamento_integracao', None)
        if row.cancelled and changes:
            raise faults.validation('Não é possível alterar um lançamento '
                'cancelado!')
        if 'valor_documento' in changes and row.settlements and \
                changes['valor_documento'] < row.principal - CENT:
            raise faults.validation('O valor do documento não pode ser '
                'menor que o valor já baixado!')
        self.own_title(row).update(clone(changes))
        if 'codigo_categoria' in changes and 'categorias' not in changes:
            row.rec['categorias'] = [{
                'codigo_categoria': changes['codigo_categoria'],
                'valor': row.rec['valor_documento'], 'percentual': 100.0}]
        elif 'valor_documento' in changes and len(
                row.rec.get('categorias') or []) == 1:
            row.rec['categorias'] = [dict(row.rec['categorias'][0],
                valor=row.rec['valor_documento'])]
        self.touch(row.rec.setdefault('info', {}))
        row.refresh()
        if topic:
            self.changed(title_topic(kind, 'Alterado'),
                self.title_event(row))
        return row

    def upsert_title(self, kind, data):
        code = data.get('codigo_lancamento_integracao')
        if not code:
            raise faults.required('codigo_lancamento_integracao')
        row = self.title_by_code[kind].get(str(code))
        if row is None:
            return self.include_title(kind, data), True
        return self.update_title(row, data), False

    def cancel_title(self, row):
        if row.settlements:
            raise faults.validation('Não é possível cancelar um lançamento '
                'que possui baixas!')
        row.cancelled = True
        self.own_title(row)['status_titulo'] = 'CANCELADO'
        self.touch(row.rec.setdefault('info', {}))
        row.refresh()
        kind = 'CR' if row.receivable else 'CP'
        self.changed(title_topic(kind, 'Alterado'), self.title_event(row))
        return row

    def delete_title(self, row):
        if row.settlements:
            raise faults.validation('Não é possível excluir um lançamento que '
                'possui baixas! Cancele as baixas antes de excluir.')
        kind = 'CR' if row.receivable else 'CP'
        self.titles[kind].remove(row)
        self.title_by_id.pop(row.id, None)
        if row.code:
            self.title_by_code[kind].pop(row.code, None)
        self.changed(title_topic(kind, 'Excluido'),
            {'codigo_lancamento_omie': row.id})
        return row

    def settle(self, kind, data, fee=0.0):
        """LancarPagamento / LancarRecebimento: one baixa on one title; fee
        is the bank fee (tarifa) the bank account charges on it"""
        row = self.title(kind, data.get('codigo_lancamento'),
            data.get('codigo_lancamento_integracao'))
        if row.cancelled:
            raise faults.validation('Não é possível baixar um lançamento '
                'cancelado!')
        value = money_field('valor', data.get('valor'))
        if value <= 0:
            raise faults.required('valor')
        desconto = money_field('desconto', data.get('desconto') or 0)
        juros = money_field('juros', data.get('juros') or 0)
        multa = money_field('multa', data.get('multa') or 0)
        principal = money(value + desconto - juros - multa)
        if row.open_amount <= CENT:
            raise faults.validation('O lançamento [%s] já está liquidado!'
                % row.id)
        if principal > row.open_amount + CENT:
            raise faults.validation('O valor da baixa [%.2f] é maior que o '
                'saldo em aberto do lançamento [%.2f] !' % (
                    principal, row.open_amount))
        code = str(data.get('codigo_baixa_integracao') or '')
        if code and code in self.settlement_by_code:
            raise faults.validation('Baixa já cadastrada para o Código de '
                'Integração [%s] !' % code)
        account_id = data.get('codigo_conta_corrente') or row.account
        account_code = data.get('codigo_conta_corrente_integracao')
        if account_code and not data.get('codigo_conta_corrente'):
            match = [a for a in self.accounts
                if a['cCodCCInt'] == account_code]
            if not match:
                raise faults.account_not_found()
            account_id = match[0]['nCodCC']
        account = self.account_by_id.get(parse_int(account_id))
        if account is None:
            raise faults.account_not_found()
        today = self.today()
        try:
            day = parse_date(data.get('data')) or today
        except ValueError:
            raise faults.bad_date('data', data.get('data'))
        stamp_day, stamp_secs = self.stamp_now()
        info = self.touch({}, created=True)
        settlement = {
            'codigo_baixa': self.new_id(),
            'codigo_baixa_integracao': code,
            'codigo_lancamento': row.id,
            'codigo_lancamento_integracao': row.code,
            'natureza': 'R' if row.receivable else 'P',
            'codigo_movimento_cc': self.new_id(),
            'codigo_conta_corrente': account['nCodCC'],
            'data': format_date(day),
            'valor': value, 'desconto': desconto, 'juros': juros,
            'multa': multa, 'tarifa': money(fee or 0),
            'observacao': str(data.get('observacao') or ''),
            'data_conciliacao': format_date(stamp_day) if is_yes(
                data.get('conciliar_documento')) else '',
            'info': info,
        }
        self.settlements.append(settlement)
        self.settlement_by_id[settlement['codigo_baixa']] = settlement
        if code:
            self.settlement_by_code[code] = settlement
        row.settlements.append(settlement)
        self.touch(self.own_title(row).setdefault('info', {}))
        row.refresh()
        self.changed(title_topic(kind, 'BaixaRealizada'),
            [self.settlement_event(settlement, row)])
        return settlement, row

    def cancel_settlement(self, kind, data):
        code = data.get('codigo_baixa_integracao')
        settlement = None
        if data.get('codigo_baixa'):
            settlement = self.settlement_by_id.get(
                parse_int(data['codigo_baixa']))
            if settlement is None:
                raise faults.not_found('Baixa', data['codigo_baixa'])
        elif code:
            settlement = self.settlement_by_code.get(str(code))
            if settlement is None:
                raise faults.not_found_integration('Baixa', code)
        else:
            raise faults.required('codigo_baixa')
        row = self.title_by_id.get(settlement['codigo_lancamento'])
        if row is None or row.receivable != (kind == 'CR'):
            raise faults.not_found('Baixa', settlement['codigo_baixa'])
        event = [self.settlement_event(settlement, row)]
        self.settlements.remove(settlement)
        self.settlement_by_id.pop(settlement['codigo_baixa'], None)
        self.settlement_by_code.pop(settlement.get(
            'codigo_baixa_integracao'), None)
        row.settlements.remove(settlement)
        self.touch(self.own_title(row).setdefault('info', {}))
        row.refresh()
        self.changed(title_topic(kind, 'BaixaCancelada'), event)
        return settlement, row

    def title_event(self, row):
        rec = row.rec
        token = row.token(self.today())
        return {
            'codigo_lancamento_omie': row.id,
            'codigo_lancamento_integracao': row.code,
            'codigo_cliente_fornecedor': rec.get('codigo_cliente_fornecedor'),
            'codigo_categoria': rec.get('codigo_categoria', ''),
            'categorias': rec.get('categorias', []),
            'data_emissao': iso_brazil(row.emission),
            'data_vencimento': iso_brazil(row.due),
            'data_previsao': iso_brazil(row.previsao),
            'valor_documento': rec.get('valor_documento'),
            'id_conta_corrente': rec.get('id_conta_corrente'),
            'numero_documento': rec.get('numero_documento', ''),
            'numero_documento_fiscal': rec.get('numero_documento_fiscal', ''),
            'numero_parcela': rec.get('numero_parcela', ''),
            'chave_nfe': rec.get('chave_nfe', ''),
            'codigo_tipo_documento': rec.get('codigo_tipo_documento', ''),
            'id_origem': rec.get('id_origem', ''),
            'observacao': rec.get('observacao', ''),
            'situacao': shapes.STATUS_LABELS.get(token, token),
        }

    def settlement_event(self, settlement, row):
        rec = row.rec
        key = 'conta_a_receber' if row.receivable else 'conta_a_pagar'
        day = parse_date(settlement['data'])
        return {
            'codigo_baixa': settlement['codigo_baixa'],
            'codigo_baixa_integracao': settlement.get(
                'codigo_baixa_integracao', ''),
            'codigo_cliente_fornecedor': rec.get('codigo_cliente_fornecedor'),
            'codigo_conta_corrente': settlement['codigo_conta_corrente'],
            key: [{
                'codigo_lancamento_omie': row.id,
                'codigo_lancamento_integracao': row.code,
                'codigo_categoria': rec.get('codigo_categoria', ''),
                'data_emissao': iso_brazil(row.emission),
                'data_vencimento': iso_brazil(row.due),
                'numero_documento': rec.get('numero_documento', ''),
                'numero_parcela': rec.get('numero_parcela', ''),
                'valor_documento': rec.get('valor_documento'),
                'situacao': shapes.STATUS_LABELS.get(
                    row.token(self.today()), ''),
            }],
            'data': iso_brazil(day),
            'data_cred': iso_brazil(day),
            'desconto': settlement['desconto'],
            'juros': settlement['juros'],
            'multa': settlement['multa'],
            'tarifa': settlement.get('tarifa', 0.0),
            'valor': settlement['valor'],
            'observacao': settlement.get('observacao', ''),
            'liquidado': 'S' if row.open_amount <= CENT else 'N',
        }
