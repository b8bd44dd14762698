# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Reading many records at once without a record list

Tryton checks every id of a record list for each record built from it, so
searching (which returns such a list) and browsing thousands of records costs
the square of their number.  What looks at a whole ledger reads rows instead:
the ids from the search's query, the values with read, a slice at a time."""
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

# Records read at once: Tryton checks that the records a reference field
# points to still exist with a record list and a list membership test, both
# in the square of the number read together
READ_SLICE = 200


def search_ids(Model, domain, order=None):
    "The ids of the records of Model that match domain, in order"
    cursor = Transaction().connection.cursor()
    cursor.execute(*Model.search(domain, order=order, query=True))
    return [id_ for id_, in cursor]


def search_rows(Model, domain, fields_names, order=None):
    "The rows read (dicts with their id) of the records matching domain"
    rows = []
    for sub_ids in grouped_slice(
            search_ids(Model, domain, order=order), READ_SLICE):
        sub_ids = list(sub_ids)
        read = {row['id']: row
            for row in Model.read(sub_ids, list(fields_names))}
        rows.extend(read[id_] for id_ in sub_ids)
    return rows
