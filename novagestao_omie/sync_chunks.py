# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The chunks of a step shared with queue workers (PostgreSQL)

The first import of a large company is mostly Tryton's own work: creating
and validating each invoice, payment move or statement, then numbering and
posting it.  Only the numbering needs the company's strict sequences, which
one transaction at a time may hold.  So the run stores the chunks of a page
(integration.sync.chunk), queue workers (trytond-worker) build them beside
it: the invoices and payment moves are created as drafts, the statements
validated, bound to their Omie records, without any lock of the company;
the run posts each built chunk in a short transaction of its own, as it
posts a chunk alone.  A user who posts meanwhile waits for one such
transaction at most, and a chunk whose process died is built or posted
again by another (its row is locked by the transaction that works on it).
Records that must not be built side by side (the settlements of one title)
share a chunk: the step's partition.  The cursor of the step moves once
every chunk is posted, as in a run alone; a run that died leaves its built
chunks to the next run, which posts them before it reads Omie again.  A
chunk Tryton refuses is built again in pieces or posted record by record
(see sync_refused)."""
import json
import time

from trytond.pool import Pool
from trytond.transaction import Transaction

from novagestao_integrations_base.chunk import import_workers
from novagestao_integrations_base.sync import in_own_transaction

from .context import POST_LATER
from .sync_refused import REFUSALS, ChunkRefused, parse_records

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
            if self.post_next(step, run):
                continue
            if self.build_next(step, run):
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
            try:
                self.import_records(step, chunk.records, counts=counts)
            except REFUSALS as exception:
                raise ChunkRefused(chunk.id, exception)
        chunk.built(counts, time.monotonic() - start)
        return True

    def build_next(self, step, run):
        """Build a pending chunk of run in a transaction of its own
        Return whether there was one"""
        try:
            return self.with_locks(self.build_chunk, step, run)
        except ChunkRefused as refusal:
            self.with_locks(self.split_refused, step, refusal)
            return True

    def split_refused(self, step, refusal):
        """Split a pending chunk that Tryton refused to build in chunks of
        one record (or of one key of the step's partition); one that cannot
        be split is pending, its chunk built"""
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')
        chunks = Chunk.search([
                ('id', '=', refusal.chunk_id),
                ('state', '=', 'pending'),
                ])
        Chunk.lock(chunks)
        # another process may have split it meanwhile
        chunks = Chunk.search([('id', 'in', [c.id for c in chunks])])
        for chunk in chunks:
            raws = chunk.records
            # the records of a key are built together, or refused together
            pieces = grouped(raws, step.partition) if step.partition else [
                [raw] for raw in raws]
            if len(pieces) > 1:
                chunk.split(pieces)
                continue
            for raw in raws:
                self.record_refused(step, raw, refusal.exception)
            chunk.built({'failed': len(raws)}, 0)

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
        try:
            getattr(self, step.post)(step, chunk.records)
        except REFUSALS as exception:
            raise ChunkRefused(chunk.id, exception)
        self.run.add_counts(step.entity, **json.loads(chunk.counts or '{}'))
        chunk.posted(time.monotonic() - start)
        return True

    def post_next(self, step, run):
        """Post a built chunk of run in a transaction of its own
        Return whether there was one"""
        try:
            return self.with_locks(self.post_chunk, step, run)
        except ChunkRefused as refusal:
            self.post_alone(step, refusal.chunk_id)
            return True

    def post_alone(self, step, chunk_id):
        """Post one by one the records of a built chunk that Tryton refused
        to post at once; those it refuses are pending, their drafts kept for
        the retry.  Each record is posted in a transaction of its own (a
        record posted twice is posted once), the chunk done in the last."""
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')
        refused = 0
        for raw in Chunk(chunk_id).records:
            try:
                self.with_locks(getattr(self, step.post), step, [raw])
            except REFUSALS as exception:
                self.with_locks(self.post_refused, step, raw, exception)
                refused += 1
        self.with_locks(self.posted_alone, step, chunk_id, refused)

    def posted_alone(self, step, chunk_id, refused):
        "Add the counts of a chunk posted one by one, refused ones failed"
        pool = Pool()
        Chunk = pool.get('integration.sync.chunk')
        chunk = Chunk(chunk_id)
        counts = json.loads(chunk.counts or '{}')
        for name in ['created', 'updated']:
            moved = min(refused, counts.get(name, 0))
            counts[name] = counts.get(name, 0) - moved
            counts['failed'] = counts.get('failed', 0) + moved
            refused -= moved
        self.run.add_counts(step.entity, **counts)
        chunk.posted(0)

    def build_chunks(self, entity):
        "Build the pending chunks of entity of the run (a queue worker)"
        step, = [s for s in self.steps() if s.entity == entity]
        try:
            while self.build_next(step, self.run):
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
            while self.post_next(step, run):
                pass

    def post_titles(self, step, raws):
        "Post the invoices that the build of the titles left in draft"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        external_ids = [str(t.omie_id) for t in parse_records(step, raws)
            if t.omie_id]
        Invoice.omie_post_built(self.integration, step.entity, external_ids)

    def post_settlements(self, step, raws):
        "Post the payment moves that the build of the settlements left draft"
        pool = Pool()
        Move = pool.get('account.move')
        Move.omie_post_built(self.integration, parse_records(step, raws))

    def post_statements(self, step, raws):
        "Post the statements that the build validated"
        pool = Pool()
        Statement = pool.get('account.statement')
        Statement.omie_post_built(
            self.integration, parse_records(step, raws))


def grouped(raws, key):
    "The lists of raws of the same key, in the order of raws"
    groups = {}
    for raw in raws:
        groups.setdefault(key(raw), []).append(raw)
    return list(groups.values())


def partitioned(raws, key, size):
    """Chunks of about size records, those of the same key in one chunk,
    in the order of raws"""
    chunks, chunk = [], []
    for group in grouped(raws, key):
        if chunk and len(chunk) + len(group) > size:
            chunks.append(chunk)
            chunk = []
        chunk.extend(group)
    if chunk:
        chunks.append(chunk)
    return chunks
