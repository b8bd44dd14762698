# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.pool import PoolMeta


class Mapping(metaclass=PoolMeta):
    __name__ = 'integration.mapping'

    @classmethod
    def omie_import_categories(cls, integration, run, categories):
        """Keep one mapping per Omie category, up to date with its name, type
        and activity; the local target and state are the user's"""
        counts = dict.fromkeys(['created', 'updated', 'unchanged'], 0)
        existing = {m.external_code: m for m in cls.search([
                    ('integration', '=', integration.id),
                    ('external_code', 'in', [c.code for c in categories]),
                    ])}
        to_save = []
        for category in categories:
            if category.totalizing or category.transfer:
                # groups and transfers never classify a title
                continue
            mapping = existing.get(category.code)
            values = {
                'external_name': category.description,
                'external_type': (
                    'revenue' if category.is_revenue
                    else 'expense' if category.is_expense else 'other'),
                'external_active': category.active,
                }
            if mapping is None:
                mapping = cls(integration=integration,
                    external_code=category.code, **values)
                counts['created'] += 1
            elif any(getattr(mapping, k) != v for k, v in values.items()):
                for name, value in values.items():
                    setattr(mapping, name, value)
                counts['updated'] += 1
            else:
                counts['unchanged'] += 1
                continue
            to_save.append(mapping)
        cls.save(to_save)
        return counts

    @classmethod
    def omie_deactivate(cls, integration, codes):
        "Mark inactive the mappings of categories deleted in Omie"
        mappings = cls.search([
                ('integration', '=', integration.id),
                ('external_code', 'in', [str(c) for c in codes]),
                ('external_active', '=', True),
                ])
        if mappings:
            cls.write(mappings, {'external_active': False})
