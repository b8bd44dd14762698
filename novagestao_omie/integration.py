# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
import trytond.config as config
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .exceptions import OmieConnectionError, OmieCredentialWarning
from .omie import DEFAULT_BASE_URL, OmieClient, errors, records

CREDENTIAL_FIELDS = {'omie_app_key', 'omie_app_secret', 'omie_base_url'}
ENTITIES = [
    ('category', "Categories"),
    ('bank_account', "Bank Accounts"),
    ('party', "Clients and Suppliers"),
    ('payable', "Payables"),
    ('receivable', "Receivables"),
    ('settlement', "Settlements"),
    ('statement', "Bank Movements"),
    ('nf', "Invoices (NF)"),
    ]


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    _omie_states = {
        'required': Eval('connector') == 'omie',
        'invisible': Eval('connector') != 'omie',
        'readonly': Eval('status') == 'disabled',
        }

    omie_app_key = fields.Char(
        "App Key", states=_omie_states,
        help="The App Key of the application in Omie's developer portal.")
    omie_app_secret = fields.Char(
        "App Secret", states=_omie_states,
        help="The App Secret of the application in Omie's developer portal.\n"
        "Once saved it can be replaced but not read back.")
    omie_base_url = fields.Char(
        "Omie URL", states=_omie_states,
        help="The address of Omie's API; change it only to use a sandbox.")
    omie_company_name = fields.Char(
        "Omie Company", readonly=True,
        states={'invisible': Eval('connector') != 'omie'})
    omie_company_cnpj = fields.Char(
        "Omie Company CNPJ", readonly=True,
        states={'invisible': Eval('connector') != 'omie'})

    del _omie_states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.connector.selection.append(('omie', "Omie"))
        cls._secret_fields.add('omie_app_secret')

    @classmethod
    def default_omie_base_url(cls):
        return DEFAULT_BASE_URL

    @classmethod
    def get_entity_selection(cls):
        return super().get_entity_selection() + [
            (entity, gettext('novagestao_omie.msg_entity_%s' % entity))
            for entity, _ in ENTITIES]

    def omie_client(self, **options):
        """Return an Omie client for the credentials of the integration

        Every client of the integration's App Key shares, through the
        database, the count of consecutive errors and the blocks that Omie
        keeps per App Key and method, whichever process builds it."""
        pool = Pool()
        RemoteGuard = pool.get('integration.remote.guard')
        options.setdefault('guard_store', RemoteGuard.store(
                self, (self.omie_app_key or '').strip()))
        options.setdefault('timeout', config.getint(
                'novagestao_omie', 'timeout', default=60))
        options.setdefault('page_size', config.getint(
                'novagestao_omie', 'page_size', default=500))
        return OmieClient(
            self.omie_app_key, self.omie_app_secret,
            base_url=self.omie_base_url or DEFAULT_BASE_URL, **options)

    def connector_test_connection(self):
        if self.connector != 'omie':
            return super().connector_test_connection()
        client = self.omie_client(max_retries=1)
        try:
            company = client.test_connection()
        except errors.OmieError as exception:
            raise OmieConnectionError(
                self.describe_exception(exception)) from None
        finally:
            client.close()
        if not company:
            raise OmieConnectionError(gettext(
                    'novagestao_omie.msg_connection_no_company'))
        name = company.get('razao_social') or company.get('nome_fantasia')
        cnpj = company.get('cnpj') or ''
        if records.parse_flag(company.get('inativa')):
            raise OmieConnectionError(gettext(
                    'novagestao_omie.msg_connection_company_inactive',
                    company=name, cnpj=cnpj))
        self.omie_company_name = name
        self.omie_company_cnpj = cnpj
        self.save()
        message = gettext(
            'novagestao_omie.msg_connection_success',
            company=name, cnpj=cnpj)
        self.notify_user('tryton-ok', message)
        return message

    def describe_exception(self, exception):
        if self.connector != 'omie' or not isinstance(
                exception, errors.OmieError):
            return super().describe_exception(exception)
        return describe_omie_error(exception, self.omie_base_url)

    def connector_sync(self, run):
        if self.connector != 'omie':
            return super().connector_sync(run)
        from .sync import OmieSync
        OmieSync(self, run).synchronise()

    def connector_build_chunks(self, run, entity):
        if self.connector != 'omie':
            return super().connector_build_chunks(run, entity)
        from .sync import OmieSync
        OmieSync(self, run).build_chunks(entity)

    @fields.depends('id', 'connector')
    def get_category_groups(self):
        """The Omie groups of the integration's categories ("2.02"), named
        by their first categories: Tryton keeps no group of its own"""
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        groups = super().get_category_groups()
        if self.connector != 'omie' or not self.id or self.id < 0:
            return groups
        names = {}
        for mapping in Mapping.search([
                    ('integration', '=', self.id),
                    ('external_type', 'in', ['revenue', 'expense']),
                    ], order=[('external_code', 'ASC')]):
            group = mapping.external_code.rpartition('.')[0]
            if group:
                names.setdefault(group, []).append(mapping.external_name)
        return groups + [
            (group, '%s (%s%s)' % (group, ', '.join(n[:2]),
                    ', …' if len(n) > 2 else ''))
            for group, n in sorted(names.items())]

    @classmethod
    def get_party_export_fields(cls):
        from .export_payloads import PARTY_FIELDS
        return super().get_party_export_fields() + [
            (f, gettext('novagestao_omie.msg_export_field_%s' % f))
            for f, _ in PARTY_FIELDS]

    @classmethod
    def get_invoice_export_fields(cls):
        from .export_payloads import INVOICE_FIELDS
        return super().get_invoice_export_fields() + [
            (f, gettext('novagestao_omie.msg_export_field_%s' % f))
            for f, _ in INVOICE_FIELDS]

    def connector_export(self, run):
        if self.connector != 'omie':
            return super().connector_export(run)
        from .export import OmieExport
        OmieExport(self, run).export()

    def connector_retry(self, errors):
        if self.connector != 'omie':
            return super().connector_retry(errors)
        # pending records are read again at the start of every run
        self.__class__.enqueue_sync([self], 'retry')
        return []

    def connector_clear_cache(self):
        super().connector_clear_cache()
        if self.connector == 'omie':
            self.omie_company_name = self.omie_company_cnpj = None
            self.save()

    def omie_credentials_changed(self, values):
        """Whether writing values changes the credentials: a form saved
        with the key and address it shows changes nothing (the placeholder
        of the secret is dropped before, so a secret written is a new one)"""
        return (bool(values.get('omie_app_secret'))
            or any(f in values and not _same(values[f], getattr(self, f))
                for f in ['omie_app_key', 'omie_base_url']))

    @classmethod
    def check_modification(
            cls, mode, integrations, values=None, external=False):
        pool = Pool()
        Warning = pool.get('res.user.warning')
        super().check_modification(
            mode, integrations, values=values, external=external)
        if (mode == 'write' and external
                and values.keys() & CREDENTIAL_FIELDS):
            changed = [i for i in integrations if i.connector == 'omie'
                and any(getattr(i, f) for f in CREDENTIAL_FIELDS
                    if f != 'omie_base_url')
                and i.omie_credentials_changed(values)]
            if changed:
                warning_name = Warning.format('omie_credentials', changed)
                if Warning.check(warning_name):
                    raise OmieCredentialWarning(warning_name, gettext(
                            'novagestao_omie.msg_credentials_modified'))


def _same(value, current):
    return (value or None) == (current or None)


def describe_omie_error(exception, base_url=None):
    "Return what a user should read about an Omie error, translated"
    wait = exception.retry_after
    if isinstance(exception, errors.AuthenticationError):
        return gettext('novagestao_omie.msg_error_authentication')
    if isinstance(exception, (
                errors.MisuseBlockedError, errors.RateLimitError,
                errors.RedundantRequestError, errors.ConcurrencyError,
                errors.CircuitOpenError)):
        return gettext(
            'novagestao_omie.msg_error_blocked',
            seconds=int(wait or 60), call=exception.call or '')
    if isinstance(exception, (errors.ConnectionError, errors.TimeoutError)):
        return gettext(
            'novagestao_omie.msg_error_unreachable',
            url=base_url or DEFAULT_BASE_URL)
    if isinstance(exception, errors.ServerError):
        return gettext('novagestao_omie.msg_error_server')
    return gettext(
        'novagestao_omie.msg_error_remote',
        call=exception.call or '',
        error=exception.faultstring or str(exception))

