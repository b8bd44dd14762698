# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Reading many records at once without a record list

Tryton checks every id of a record list for each record built from it, so
searching (which returns such a list) and browsing thousands of records costs
the square of their number.  What looks at a whole ledger reads rows instead:
the ids from the search's query, or the stored columns themselves."""
from sql import Column

from trytond.transaction import Transaction


def search_ids(Model, domain, order=None):
    "The ids of the records of Model that match domain, in order"
    cursor = Transaction().connection.cursor()
    cursor.execute(*Model.search(domain, order=order, query=True))
    return [id_ for id_, in cursor]


def search_columns(Model, domain, columns):
    """The rows (dicts with their id) of the stored columns of the records
    matching domain, as stored: a reference is its 'model,id' text, whether
    that record still exists or not (read checks that it does with a list
    membership test per row, in the square of the rows read together)"""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            table.id, *(Column(table, c) for c in columns),
            where=table.id.in_(Model.search(domain, query=True))))
    names = ['id'] + list(columns)
    return [dict(zip(names, row)) for row in cursor]
