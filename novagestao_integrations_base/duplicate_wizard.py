# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Find Duplicates: the records typed by hand that repeat one linked to an
external system, each with the person's choice: link it to the linked
record, or ignore the pair for good"""
from collections import defaultdict

from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .duplicate import DuplicateMixin, external_names


class FindDuplicatesStart(ModelView):
    "Find Duplicates"
    __name__ = 'integration.duplicate.find.start'

    pairs = fields.One2Many(
        'integration.duplicate.pair', None, "Duplicates",
        help="Each record typed by hand beside the linked record it "
        "repeats.")


class DuplicatePair(ModelView):
    "Duplicate"
    __name__ = 'integration.duplicate.pair'

    model = fields.Selection('get_models', "Kind", readonly=True)
    record = fields.Reference(
        "Typed Here", selection='get_models', readonly=True,
        help="The record created by hand, linked to no external system.")
    # the list shows names: a reference reads "Kind,name" there, and the
    # kind has a column of its own; the form links to the records
    record_name = fields.Char(
        "Typed Here", readonly=True,
        help="The record created by hand, linked to no external system.")
    linked = fields.Reference(
        "Linked Record", selection='get_models', readonly=True,
        help="The record imported from or linked to the external system.")
    linked_name = fields.Char(
        "Linked Record", readonly=True,
        help="The record imported from or linked to the external system.")
    external = fields.Char(
        "External Link", readonly=True,
        help="The record of the external system the linked record is "
        "linked to.")
    reason = fields.Char("Same", readonly=True)
    action = fields.Selection([
            (None, ""),
            ('link', "Link to the linked record"),
            ('ignore', "Ignore: not the same"),
            ], "Choice", sort=False,
        help="Link: a party typed here is replaced by the linked one (its "
        "documents go to it); an invoice typed here is cancelled, as the "
        "linked one books it.\n"
        "Ignore: the pair is not proposed again.")

    @classmethod
    def get_models(cls):
        "The models that may have duplicates, by the names users say"
        pool = Pool()
        Binding = pool.get('integration.binding')
        models = [pool.get(m) for m in Binding._get_models()]
        return [(None, '')] + [
            (m.__name__, m.integration_duplicate_kind()) for m in models
            if issubclass(m, DuplicateMixin)]


class FindDuplicates(Wizard):
    "Find Duplicates"
    __name__ = 'integration.duplicate.find'

    start = StateView(
        'integration.duplicate.find.start',
        'novagestao_integrations_base.duplicate_find_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Apply Choices", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def integrations(self):
        pool = Pool()
        Integration = pool.get('integration.integration')
        context = Transaction().context
        if (context.get('active_model') == Integration.__name__
                and self.records):
            return list(self.records)
        return Integration.search([('status', '!=', 'draft')])

    def default_start(self, fields):
        pairs, seen = [], set()
        for integration in self.integrations():
            for record, linked in integration.find_duplicate_pairs():
                if (record, linked) in seen:
                    continue
                seen.add((record, linked))
                pairs.append({
                        'model': record.__name__,
                        'record': str(record),
                        'record_name': record.rec_name,
                        'linked': str(linked),
                        'linked_name': linked.rec_name,
                        'external': external_names(linked),
                        'reason': linked.integration_duplicate_reason(),
                        })
        return {'pairs': pairs}

    def transition_apply(self):
        pool = Pool()
        Ignored = pool.get('integration.duplicate.ignored')
        to_link, to_ignore, linking = defaultdict(list), [], set()
        for pair in self.start.pairs:
            if not pair.record or not pair.linked:
                continue
            if pair.action == 'link' and pair.record not in linking:
                # a record repeating two linked ones joins the first chosen
                linking.add(pair.record)
                to_link[pair.record.__name__].append(
                    (pair.record, pair.linked))
            elif pair.action == 'ignore':
                to_ignore.append((pair.record, pair.linked))
        Ignored.ignore(to_ignore)
        for model, pairs in sorted(to_link.items()):
            pool.get(model).integration_merge_duplicates(pairs)
        # the pairs left, if any
        return 'start'
