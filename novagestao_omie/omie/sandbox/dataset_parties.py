# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The clients and suppliers of a generated dataset, as Omie lists them:
companies and people of several profiles, with their documents, addresses,
contacts and bank details"""
import datetime as dt

from stdnum.br import cnpj as cnpj_rules
from stdnum.br import cpf as cpf_rules

from . import names
from .drafting import IdSequence, cpf_check_digits, make_info
from .formats import ascii_upper, money


class PartyDrafts:
    "The parties part of the dataset's generator"

    def new_cnpj(self, branch='0001'):
        while True:
            base = '%08d' % self.rng.randint(1000000, 99999999) + branch
            number = base + cnpj_rules.calc_check_digits(base)
            if number not in self.used_documents:
                self.used_documents.add(number)
                return number

    def new_cpf(self):
        while True:
            base = '%09d' % self.rng.randint(10 ** 7, 10 ** 9 - 1)
            number = base + cpf_check_digits(base)
            if number not in self.used_documents and len(set(number)) > 1:
                self.used_documents.add(number)
                return number

    def person_name(self):
        rng = self.rng
        first = rng.choice(names.FIRST_NAMES_MALE if rng.random() < 0.5
            else names.FIRST_NAMES_FEMALE)
        parts = [first]
        if rng.random() < 0.3:
            parts.append(rng.choice(names.MIDDLE_NAMES))
        parts.append(rng.choice(names.SURNAMES))
        if rng.random() < 0.35:
            surname = rng.choice(names.SURNAMES)
            if surname not in parts:
                parts.append(surname)
        return ' '.join(parts)

    def company_name(self, business, style):
        rng = self.rng
        if style == 'place':
            core = '%s %s' % (business, rng.choice(names.PLACE_NAMES))
        else:
            surname = rng.choice(names.SURNAMES).replace(
                'da ', '').replace('dos ', '')
            core = '%s %s' % (business, surname)
            if rng.random() < 0.15:
                core += ' & Filhos'
        suffix = rng.choices(
            [s for s, _ in names.COMPANY_SUFFIXES],
            [w for _, w in names.COMPANY_SUFFIXES])[0]
        return '%s %s' % (core, suffix)

    def city(self):
        return self.rng.choices(names.CITIES, names.CITY_WEIGHTS)[0]

    def phone(self, mobile):
        if mobile:
            return '9%04d-%04d' % (self.rng.randint(1000, 9999),
                self.rng.randint(0, 9999))
        return '%04d-%04d' % (self.rng.randint(2000, 5999),
            self.rng.randint(0, 9999))

    @staticmethod
    def slug(text):
        return ''.join(ch for ch in ascii_upper(text).lower()
            if ch.isalnum())[:24]

    def party_profiles(self):
        "The profile of every party, so that each role is always present"
        rng = self.rng
        fixed = ['energy', 'water', 'telecom', 'rent', 'accounting', 'office',
            'government', 'government', 'partner', 'carrier', 'goods',
            'goods', 'employee', 'employee', 'retail', 'services',
            'consumer', 'both', 'foreign']
        pool = (['retail'] * 20 + ['services'] * 9 + ['consumer'] * 12
            + ['both'] * 8 + ['goods'] * 12 + ['carrier'] * 3
            + ['employee'] * 6 + ['office'] * 2 + ['foreign'] * 2
            + ['accounting', 'rent', 'telecom', 'government'])
        profiles = fixed[:self.n_parties]
        while len(profiles) < self.n_parties:
            profiles.append(rng.choice(pool))
        rng.shuffle(profiles)
        return profiles

    def build_parties(self):
        rng = self.rng
        profiles = self.party_profiles()
        drafts = []
        for profile in profiles:
            drafts.append(self.party_draft(profile))
        # Omie ids grow with the inclusion time.
        drafts.sort(key=lambda d: (d['_inc'], d['_inc_secs']))
        next_id = IdSequence(rng, rng.randint(2, 3) * 10 ** 9)
        self.parties = []
        self.clients_by_profile = {}
        self.suppliers_by_profile = {}
        self.party_by_id = {}
        self.profile_by_party = {}
        for index, draft in enumerate(drafts):
            record = draft['record']
            record['codigo_cliente_omie'] = next_id()
            if draft['via_api']:
                record['codigo_cliente_integracao'] = 'CLI%06d' % (index + 1)
            record['info'] = make_info(
                draft['_inc'], draft['_inc_secs'], draft['_alt'],
                draft['_alt_secs'],
                'WEBSERVICE' if draft['via_api'] else self.user(),
                'WEBSERVICE' if draft['via_api'] and rng.random() < 0.5
                else self.user(), draft['via_api'])
            record['importado_api'] = 'S' if draft['via_api'] else 'N'
            self.parties.append(record)
            self.party_by_id[record['codigo_cliente_omie']] = record
            self.profile_by_party[record['codigo_cliente_omie']] = \
                draft['profile']
            tags = {t['tag'] for t in record['tags']}
            usable = record['inativo'] == 'N'
            if 'Cliente' in tags and usable:
                self.clients_by_profile.setdefault(
                    draft['profile'], []).append(record)
            if 'Fornecedor' in tags and usable:
                self.suppliers_by_profile.setdefault(
                    draft['profile'], []).append(record)
        self.clients = [p for lst in self.clients_by_profile.values()
            for p in lst]
        self.suppliers = [p for lst in self.suppliers_by_profile.values()
            for p in lst]
        # Keep every list non-empty even for tiny datasets.
        if not self.clients:
            self.clients = [self.parties[0]]
        if not self.suppliers:
            self.suppliers = [self.parties[-1]]

    def party_draft(self, profile):
        rng = self.rng
        person = profile in ('consumer', 'employee', 'partner')
        foreign = profile == 'foreign'
        city = self.city()
        tags = []
        if profile in ('retail', 'services', 'consumer', 'foreign', 'both'):
            tags.append('Cliente')
        if profile not in ('retail', 'services', 'consumer', 'foreign'):
            tags.append('Fornecedor')
        if profile == 'carrier':
            tags.append('Transportadora')
        if profile == 'employee':
            tags.append('Funcionário')
        if profile in ('retail', 'both') and rng.random() < 0.1:
            tags.append('VIP')

        if foreign:
            code, city_name, _country = rng.choice(names.FOREIGN)
            razao = rng.choice(names.FOREIGN_COMPANIES)
            fantasia = razao.split(' ')[0] + ' ' + razao.split(' ')[1]
            document = ''
        elif person:
            razao = self.person_name()
            fantasia = razao.split(' ')[0]
            document = cpf_rules.format(self.new_cpf())
        else:
            if profile in ('energy', 'water'):
                template = next(t for t, p in names.UTILITIES if p == profile)
                razao = template.format(place=rng.choice(names.PLACE_NAMES))
            elif profile == 'government':
                razao = rng.choice(names.GOVERNMENT).format(
                    city=names.CITIES[0][0])
            else:
                wanted = {'goods': 'goods', 'carrier': 'carrier',
                    'rent': 'rent', 'accounting': 'accounting',
                    'telecom': 'telecom', 'office': 'office',
                    'services': 'services', 'both': 'both'}.get(
                        profile, 'retail')
                business, style, _ = rng.choice(
                    [b for b in names.BUSINESSES if b[2] == wanted])
                razao = self.company_name(business, style)
            fantasia = razao.replace(' S.A.', '').replace(' Ltda', '')
            for suffix in (' - ME', ' - EPP', ' ME', ' EPP', ' EIRELI'):
                fantasia = fantasia.replace(suffix, '')
            document = cnpj_rules.format(self.new_cnpj())

        # A few records carry a document whose check digits are wrong, as
        # happens in real registers filled by hand.
        if document and rng.random() < 0.015:
            wrong = (int(document[-1]) + 1) % 10
            document = document[:-1] + str(wrong)

        sparse = rng.random() < 0.08
        domain = self.slug(fantasia) or 'cliente'
        if person:
            email = '%s.%s@%s' % (
                self.slug(razao.split(' ')[0]), self.slug(razao.split(' ')[-1]),
                rng.choice(['gmail.com', 'hotmail.com', 'yahoo.com.br',
                    'uol.com.br', 'outlook.com']))
        else:
            email = '%s@%s.com.br' % (
                rng.choice(['contato', 'financeiro', 'comercial', 'adm']),
                domain)
        if sparse:
            email = ''
        street = rng.choice(names.STREETS)
        cep = '%s%03d-%03d' % (city[3], rng.randint(0, 999),
            rng.randint(0, 999))
        inactive = rng.random() < 0.03 and profile not in (
            'energy', 'water', 'government')
        via_api = rng.random() < 0.45
        start = self.today - dt.timedelta(days=3 * 365)
        inc = self.day_between(start, self.today - dt.timedelta(days=30))
        inc_secs = self.office_hours()
        if rng.random() < 0.4:
            alt = self.day_between(inc, self.today)
            alt_secs = self.office_hours()
            if alt == inc and alt_secs < inc_secs:
                alt_secs = inc_secs
        else:
            alt, alt_secs = inc, inc_secs
        bank = rng.choice(names.BANKS)
        record = {
            'codigo_cliente_omie': 0,
            'codigo_cliente_integracao': '',
            'razao_social': razao,
            'nome_fantasia': '' if sparse and not foreign else fantasia,
            'cnpj_cpf': document,
            'pessoa_fisica': 'S' if person else 'N',
            'exterior': 'S' if foreign else 'N',
            'email': email,
            'homepage': '' if person or sparse else 'www.%s.com.br' % domain,
            'telefone1_ddd': '' if foreign or sparse else city[4],
            'telefone1_numero': '' if sparse else (
                '+%s 5%03d-%04d' % (code[1:3], rng.randint(0, 999),
                    rng.randint(0, 9999)) if foreign else
                self.phone(mobile=person)),
            'telefone2_ddd': '', 'telefone2_numero': '',
            'fax_ddd': '', 'fax_numero': '',
            'contato': '' if person or sparse else self.person_name(),
            'endereco': 'Calle %d' % rng.randint(1, 99) if foreign else street,
            'endereco_numero': str(rng.randint(1, 3500)),
            'complemento': rng.choice(names.COMPLEMENTS),
            'bairro': '' if foreign else rng.choice(names.DISTRICTS),
            'cidade': ascii_upper(city_name) if foreign else
                '%s (%s)' % (ascii_upper(city[0]), city[1]),
            'cidade_ibge': '' if foreign else city[2],
            'estado': 'EX' if foreign else city[1],
            'cep': '' if foreign else cep,
            'codigo_pais': code if foreign else '1058',
            'inscricao_estadual': '' if person or foreign else (
                'ISENTO' if rng.random() < 0.2 else '%03d.%03d.%03d.%03d' % (
                    rng.randint(100, 999), rng.randint(0, 999),
                    rng.randint(0, 999), rng.randint(0, 999))),
            'inscricao_municipal': '' if person or foreign or sparse else
                '%d' % rng.randint(10 ** 6, 10 ** 8),
            'inscricao_suframa': '',
            'optante_simples_nacional': 'N' if person or foreign else (
                'S' if rng.random() < 0.55 else 'N'),
            'contribuinte': 'N' if person or foreign else 'S',
            'produtor_rural': 'N',
            'inativo': 'S' if inactive else 'N',
            'bloquear_faturamento': 'N',
            'bloquear_exclusao': 'N',
            'valor_limite_credito': 0.0 if person else money(
                rng.choice([0, 5000, 10000, 20000, 50000])),
            'observacao': '' if rng.random() < 0.8 else
                'Cliente desde %d. Preferência por boleto.' % inc.year,
            'tags': [{'tag': tag} for tag in tags],
            'dadosBancarios': {
                'codigo_banco': '' if sparse or foreign else bank[0],
                'agencia': '' if sparse or foreign else
                    '%04d' % rng.randint(1, 9999),
                'conta_corrente': '' if sparse or foreign else
                    '%d-%d' % (rng.randint(1000, 999999), rng.randint(0, 9)),
                'doc_titular': '' if sparse or foreign else document,
                'nome_titular': '' if sparse or foreign else razao,
                'transf_padrao': 'N',
                'cChavePix': '' if sparse or not email else email,
            },
            'enderecoEntrega': {
                'entEndereco': '', 'entNumero': '', 'entComplemento': '',
                'entBairro': '', 'entCEP': '', 'entEstado': '',
                'entCidade': '', 'entTelefone': '', 'entCnpjCpf': '',
                'entRazaoSocial': '', 'entIE': '', 'entSepararEndereco': 'N',
            },
            'recomendacoes': {
                'numero_parcelas': rng.choice(['', '', '001', '002', '003']),
                'codigo_vendedor': 0, 'email_fatura': email,
                'gerar_boletos': 'S' if 'Cliente' in tags
                    and rng.random() < 0.5 else 'N',
                'codigo_transportadora': 0, 'tipo_assinante': '',
            },
            'caracteristicas': [] if rng.random() < 0.85 else [
                {'campo': 'Segmento', 'conteudo': rng.choice(
                    ['Varejo', 'Atacado', 'Serviços', 'Indústria'])}],
        }
        return {'record': record, 'profile': profile, 'via_api': via_api,
            '_inc': inc, '_inc_secs': inc_secs, '_alt': alt,
            '_alt_secs': alt_secs}
