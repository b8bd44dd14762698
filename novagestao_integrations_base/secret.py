# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Secret fields: write-only through the API, for every group.

A connector declares its secrets by adding their names to
``Integration._secret_fields`` in ``__setup__``.  Through the API (a
transaction that checks access) nothing returns or tests their value:

* read, and a dotted read from a related model, give a placeholder;
* export_data, from this model or through a related one, gives it too (the
  export reads values as record attributes: the field's descriptor masks);
* a search domain or an order on a secret, direct or dotted, is refused to
  every user (a domain would be a character-by-character oracle, an order a
  slower one); only the root user (routes, e.g. the webhook token lookup)
  may search on a secret.

Writing a new value works; writing the placeholder back keeps the value.
The server reads the values as usual (buttons, cron, queue and routes do
not check access)."""
import functools

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import PoolMeta
from trytond.transaction import Transaction

SECRET_PLACEHOLDER = '•' * 12
# Context key set while the server computes a read (e.g. a Function field
# built from a secret); the RPC layer drops client keys that start with "_".
_INTERNAL = '_secret_fields_internal'


def _masked():
    transaction = Transaction()
    return (transaction.check_access
        and not transaction.context.get(_INTERNAL))


def _refuse(field, Model):
    raise AccessError(gettext(
            'novagestao_integrations_base.msg_secret_field_search',
            **Model.__names__(field=field.name)))


@functools.lru_cache(maxsize=None)
def secret_class(field_class):
    "The class of field_class whose value the API never returns or tests"
    class Secret(field_class):
        def __get__(self, inst, cls):
            value = super().__get__(inst, cls)
            if inst is not None and value and _masked():
                return SECRET_PLACEHOLDER
            return value

        # Trytond converts domains and orders without checking access (a
        # dotted path through a related model too): refuse any user's.
        def convert_domain(self, domain, tables, Model):
            if Transaction().user:
                _refuse(self, Model)
            return super().convert_domain(domain, tables, Model)

        def convert_order(self, name, tables, Model):
            if Transaction().user:
                _refuse(self, Model)
            return super().convert_order(name, tables, Model)

    Secret.__name__ = Secret.__qualname__ = 'Secret' + field_class.__name__
    return Secret


class SecretFieldsMixin:
    """Make the fields named in _secret_fields write-only through the API
    (see the module docstring); a model sets _secret_fields in __setup__"""
    __slots__ = ()
    _secret_fields = set()

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        for name in cls._secret_fields & cls._fields.keys():
            field = cls._fields[name]
            if not type(field).__name__.startswith('Secret'):
                field.__class__ = secret_class(type(field))

    @classmethod
    def read(cls, ids, fields_names):
        transaction = Transaction()
        if not transaction.check_access:
            return super().read(ids, fields_names)
        with transaction.set_context(**{_INTERNAL: True}):
            result = super().read(ids, fields_names)
        for name in cls._secret_fields & set(fields_names):
            for row in result:
                if row.get(name):
                    row[name] = SECRET_PLACEHOLDER
        return result

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args = []
        for records, values in zip(actions, actions):
            kept = {name for name in cls._secret_fields
                if values.get(name) == SECRET_PLACEHOLDER}
            if kept:
                values = {k: v for k, v in values.items() if k not in kept}
            args.extend((records, values))
        super().write(*args)

    @classmethod
    def create(cls, vlist):
        # the placeholder copied from a read is never stored as a value
        vlist = [{k: v for k, v in values.items()
                if not (k in cls._secret_fields
                    and v == SECRET_PLACEHOLDER)}
            for values in vlist]
        return super().create(vlist)


class Integration(SecretFieldsMixin, metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # The webhook token is the secret part of the webhook address.
        cls._secret_fields = {'webhook_token'}
