# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The writes of the store's clients (IncluirCliente, AlterarCliente,
UpsertCliente, ExcluirCliente): Omie's checks and normalisations"""
from stdnum.br import cnpj as cnpj_rules
from stdnum.br import cpf as cpf_rules

from . import faults, names, shapes
from .formats import ascii_upper, digits
from .rows import clone, money_field


class PartyWrites:
    "The clients part of the Store"

    def _normalise_party_input(self, data, existing=None):
        out = {}
        for key, value in data.items():
            if key in ('codigo_cliente_omie', 'info'):
                continue
            out[key] = value
        if 'tags' in out:
            tags = []
            for tag in out['tags'] or []:
                name = tag.get('tag') if isinstance(tag, dict) else tag
                if name and name not in [t['tag'] for t in tags]:
                    tags.append({'tag': str(name)})
            out['tags'] = tags
        if 'cnpj_cpf' in out:
            out['cnpj_cpf'] = _format_document(out['cnpj_cpf'])
            number = digits(out['cnpj_cpf'])
            if number and not (cpf_rules.is_valid(number) or
                    cnpj_rules.is_valid(number)):
                raise faults.validation(
                    'CPF/CNPJ [%s] informado é inválido!' % out['cnpj_cpf'])
            if len(number) == 11 and 'pessoa_fisica' not in out:
                out['pessoa_fisica'] = 'S'
        if 'cidade' in out or 'cidade_ibge' in out:
            out.update(_resolve_city(out.get('cidade', ''),
                out.get('cidade_ibge', ''),
                out.get('estado') or (existing or {}).get('estado', '')))
        for nested in shapes.PARTY_NESTED:
            if nested in out and existing and isinstance(out[nested], dict):
                merged = dict(existing.get(nested) or {})
                merged.update(out[nested])
                out[nested] = merged
        for key in ('valor_limite_credito',):
            if key in out:
                out[key] = money_field(key, out[key])
        return out

    def _check_party_duplicates(self, data, current_id=None):
        code = data.get('codigo_cliente_integracao')
        if code:
            other = self.party_by_code.get(code)
            if other is not None and other['codigo_cliente_omie'] != \
                    current_id:
                raise faults.validation(
                    'Cliente já cadastrado para o Código de Integração [%s] !'
                    % code)
        number = digits(data.get('cnpj_cpf'))
        if number:
            for party in self.parties:
                if party['codigo_cliente_omie'] != current_id and \
                        digits(party.get('cnpj_cpf')) == number:
                    raise faults.validation(
                        'Cliente já cadastrado para o CPF/CNPJ [%s] com o Id '
                        '[%s] e código de integração [%s] ! (add)' % (
                            data['cnpj_cpf'], party['codigo_cliente_omie'],
                            party.get('codigo_cliente_integracao', '')))

    def include_party(self, data):
        if not str(data.get('razao_social') or '').strip():
            raise faults.required('razao_social')
        record = self.adopt(clone(self._normalise_party_input(data)))
        self._check_party_duplicates(record)
        record['codigo_cliente_omie'] = self.new_id()
        record.setdefault('codigo_cliente_integracao', '')
        record.setdefault('tags', [])
        record['importado_api'] = 'S'
        record['info'] = self.touch({}, created=True)
        self.parties.append(record)
        self.party_by_id[record['codigo_cliente_omie']] = record
        if record['codigo_cliente_integracao']:
            self.party_by_code[record['codigo_cliente_integracao']] = record
        self.changed('ClienteFornecedor.Incluido', self.render_party(record))
        return record

    def alter_party(self, data, key_from_code=False):
        party = self.party(data.get('codigo_cliente_omie') if not
            key_from_code else None, data.get('codigo_cliente_integracao'))
        return self.update_party(party, data)

    def update_party(self, party, data):
        if 'razao_social' in data and not str(data['razao_social']).strip():
            raise faults.required('razao_social')
        changes = self._normalise_party_input(data, existing=party)
        if not changes.get('codigo_cliente_integracao'):
            # A blank code on AlterarCliente keeps the current one.
            changes.pop('codigo_cliente_integracao', None)
        self._check_party_duplicates(dict(changes, cnpj_cpf=changes.get(
            'cnpj_cpf', '')), current_id=party['codigo_cliente_omie'])
        party = self.own_party(party)
        old_code = party.get('codigo_cliente_integracao')
        party.update(clone(changes))
        if party.get('codigo_cliente_integracao') != old_code:
            self.party_by_code.pop(old_code, None)
            if party.get('codigo_cliente_integracao'):
                self.party_by_code[party['codigo_cliente_integracao']] = party
        self.touch(party.setdefault('info', {}))
        self.changed('ClienteFornecedor.Alterado', self.render_party(party))
        return party

    def upsert_party(self, data):
        code = data.get('codigo_cliente_integracao')
        if not code:
            raise faults.required('codigo_cliente_integracao')
        party = self.party_by_code.get(str(code))
        if party is None:
            return self.include_party(data), True
        return self.update_party(party, data), False

    def delete_party(self, party):
        self.parties.remove(party)
        self.party_by_id.pop(party['codigo_cliente_omie'], None)
        self.party_by_code.pop(party.get('codigo_cliente_integracao'), None)
        self.changed('ClienteFornecedor.Excluido',
            {'codigo_cliente_omie': party['codigo_cliente_omie']})


def _format_document(value):
    number = digits(value)
    if len(number) == 14:
        return cnpj_rules.format(number)
    if len(number) == 11:
        return cpf_rules.format(number)
    return str(value or '')


_CITY_BY_IBGE = {city[2]: city for city in names.CITIES}
_CITY_BY_NAME = {(ascii_upper(city[0]), city[1]): city
    for city in names.CITIES}


def _resolve_city(cidade, ibge, estado):
    """Omie accepts a city name or an IBGE code and prints 'NAME (UF)'"""
    cidade = str(cidade or '').strip()
    ibge = str(ibge or '').strip()
    if cidade.isdigit() and not ibge:
        ibge = cidade
    city = _CITY_BY_IBGE.get(ibge)
    if city is None and cidade:
        name = cidade.rsplit(' (', 1)[0]
        uf = estado or (cidade.rsplit('(', 1)[-1].rstrip(')')
            if cidade.endswith(')') else '')
        city = _CITY_BY_NAME.get((ascii_upper(name), uf.upper()))
    if city is not None:
        return {'cidade': '%s (%s)' % (ascii_upper(city[0]), city[1]),
            'cidade_ibge': city[2], 'estado': city[1]}
    if cidade and not cidade.endswith(')') and estado and estado != 'EX':
        cidade = '%s (%s)' % (ascii_upper(cidade), estado.upper())
    elif cidade:
        cidade = ascii_upper(cidade)
    return {'cidade': cidade, 'cidade_ibge': ibge}
