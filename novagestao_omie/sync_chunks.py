# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The chunks of a title step shared with queue workers (PostgreSQL)

The first import of a large company is mostly Tryton's own work: creating
and validating each invoice, then numbering and posting it.  Only the
numbering needs the company's strict sequences, which one transaction at a
time may hold.  So the run stores the chunks of a page
(integration.sync.chunk), queue workers (trytond-worker) build them beside
it: the invoices are created and validated as drafts, bound to their Omie
titles, without any lock of the company; the run posts each built chunk in
a short transaction of its own, as it posts a chunk alone.  A user who posts
meanwhile waits for one such transaction at most, and a chunk whose process
died is built or posted again by another (its row is locked by the
transaction that works on it).  The cursor of the step moves once every
chunk is posted, as in a run alone; a run that died leaves its built chunks
to the next run, which posts them before it reads Omie again."""
import json
import time

from trytond.pool import Pool
from trytond.transaction import Transaction

from novagestao_integrations_base.chunk import import_workers
from novagestao_integrations_base.sync import in_own_transaction

# The context key that tells a title importer to leave its new invoices in
# draft: the run posts them afterwards, in a transaction of their own
POST_LATER = 'omie_post_later'
# Seconds the run waits before it looks again at chunks built by workers
CHUNK_WAIT = 0.05


class SharedChunks:
    "The part of OmieSync that shares the chunks of a step with workers"

    def __init__(self):
        # the processes that build the chunks: the run and its workers
        self.workers = import_workers()

    def shares_chunks(self, step, chunks):
        "Whether the chunks of a page are shared with queue workers"
        return bool(step.post) and len(chunks) > 1 and self.workers > 1

    def import_shared(self, step, chunks):
        """Import the chunks of a page with the workers and return the
        records parsed from them"""
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')
        if step.before:
            for chunk in chunks:
                getattr(self, step.before)(step, chunk)
        shared = Chunk.add(self.run, step.entity, chunks)
        Chunk.push_builders(shared, self.workers - 1)
        self.commit()
        self.work_chunks(step, self.run)
        return parse_records(step, [r for chunk in chunks for r in chunk])

    def work_chunks(self, step, run):
        """Post the built chunks of the run and build its pending ones until
        every one is done; a chunk a worker builds is waited for"""
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')
        while True:
            if self.with_locks(self.post_chunk, step, run):
                continue
            if self.with_locks(self.build_chunk, step, run):
                continue
            # a new snapshot sees what the workers committed
            self.commit()
            if not Chunk.left(run, step.entity):
                return
            time.sleep(CHUNK_WAIT)

    def build_chunk(self, step, run):
        """Build a pending chunk of the run in the current transaction
        Return whether there was one"""
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')
        Run = pool.get('integration.sync.run')
        if Run(run.id).state != 'running':
            # its run died: the next run reads its records again
            return False
        chunk = Chunk.claim(run, step.entity, 'pending')
        if chunk is None:
            return False
        start = time.monotonic()
        counts = {}
        with Transaction().set_context({POST_LATER: True}):
            self.import_records(step, chunk.records, counts=counts)
        chunk.built(counts, time.monotonic() - start)
        return True

    def post_chunk(self, step, run):
        """Post a built chunk of run in the current transaction and add its
        counts to this run
        Return whether there was one"""
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')
        chunk = Chunk.claim(run, step.entity, 'built')
        if chunk is None:
            return False
        start = time.monotonic()
        getattr(self, step.post)(step, chunk.records)
        self.run.add_counts(step.entity, **json.loads(chunk.counts or '{}'))
        chunk.posted(time.monotonic() - start)
        return True

    def build_chunks(self, entity):
        "Build the pending chunks of entity of the run (a queue worker)"
        step, = [s for s in self.steps() if s.entity == entity]
        try:
            while self.with_locks(self.build_chunk, step, self.run):
                pass
        finally:
            self.client.close()

    def finish_left_chunks(self, step):
        """Post the chunks that earlier runs built and could not post, and
        forget those they did not build: the cursor of the step did not
        move past their records, which this run reads again"""
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')

        def forget_pending():
            pending = [c for c in Chunk.left_from_other_runs(
                    self.integration, step.entity, self.run)
                if c.state == 'pending']
            # a worker may be building one still: it is waited for
            Chunk.lock(pending)
            Chunk.delete(pending)
        self.commit()
        runs = {c.run for c in Chunk.left_from_other_runs(
                self.integration, step.entity, self.run)}
        if not runs:
            return
        in_own_transaction(forget_pending)
        for run in runs:
            while self.with_locks(self.post_chunk, step, run):
                pass

    def post_titles(self, step, raws):
        "Post the invoices that the build of the titles left in draft"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        external_ids = [str(t.omie_id) for t in parse_records(step, raws)
            if t.omie_id]
        Invoice.omie_post_built(self.integration, step.entity, external_ids)

    def post_statements(self, step, raws):
        "Post the statements that the build validated"
        pool = Pool()
        Statement = pool.get('account.statement')
        Statement.omie_post_built(
            self.integration, parse_records(step, raws))


def parse_records(step, raws):
    "The records of the step parsed from raws; the unreadable are left out"
    parsed = []
    for raw in raws:
        try:
            record = step.parser.from_omie(raw)
        except ValueError:
            continue  # the chunk's build records the error
        if record is not None:
            parsed.append(record)
    return parsed
