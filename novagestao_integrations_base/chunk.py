# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The chunks of a run's import that several processes share

A connector that imports a list in chunks of records may hand them to
queue workers: the run stores each chunk, the workers (trytond-worker
processes, on PostgreSQL) and the run itself build them (the local records
are created and validated as drafts, which takes no lock of the company)
and the run alone posts them, one short transaction each, in which the
strict sequences of the company are locked.  A chunk is claimed by the
transaction that builds or posts it (its row is locked, and locked rows
are skipped by the others): a process that dies leaves it to the next one,
never half done."""
import json
import os
import socket

from trytond import backend, config
from trytond.model import Index, ModelSQL, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .export import IMPORTING

STATES = [
    ('pending', "Pending"),
    ('built', "Built"),
    ('done', "Done"),
    ]


def import_workers():
    """The processes that build the chunks of an import: the run and the
    queue workers it may count on (trytond-worker on PostgreSQL only, as
    SQLite lets one transaction write at a time)"""
    if backend.name != 'postgresql' or not config.getboolean(
            'queue', 'worker', default=False):
        return 1
    return max(config.getint('integration', 'import_workers', default=1), 1)


def process_name():
    return '%s:%s' % (socket.gethostname(), os.getpid())


class SyncChunk(ModelSQL):
    "Sync Chunk"
    __name__ = 'integration.sync.chunk'

    run = fields.Many2One(
        'integration.sync.run', "Run", required=True, ondelete='CASCADE',
        readonly=True)
    entity = fields.Char("Entity", required=True, readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    payload = fields.Text("Payload", readonly=True,
        help="The external records of the chunk, as JSON, until it is done.")
    counts = fields.Text("Counts", readonly=True,
        help="The counters of the chunk's build, added to the run's when "
        "it is posted.")
    built_by = fields.Char("Built By", readonly=True,
        help="The host and process that built the chunk.")
    build_seconds = fields.Float("Build Seconds", readonly=True)
    post_seconds = fields.Float("Post Seconds", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')
        cls._order = [('id', 'ASC')]
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.run, Index.Equality()),
                (t.entity, Index.Equality()),
                (t.state, Index.Equality()),
                where=t.state != 'done'))

    @classmethod
    def default_state(cls):
        return 'pending'

    @property
    def records(self):
        return json.loads(self.payload or '[]')

    @classmethod
    def add(cls, run, entity, record_lists):
        "Create a pending chunk of the run for each list of records"
        chunks = [cls(run=run, entity=entity, payload=json.dumps(records))
            for records in record_lists if records]
        cls.save(chunks)
        return chunks

    @classmethod
    def claim(cls, run, entity, state):
        """Return a chunk of the run in state that no other transaction
        holds, locked until the end of the current one, or None"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = ((table.run == run.id) & (table.entity == entity)
            & (table.state == state))
        query = table.select(table.id, where=where,
            order_by=[table.id.asc], limit=1)
        if backend.name == 'postgresql':
            # SKIP LOCKED: a chunk another process works on is not waited
            # for; python-sql has no syntax for it
            sql, params = tuple(query)
            cursor.execute(sql + ' FOR UPDATE SKIP LOCKED', params)
        else:
            cursor.execute(*query)
        row = cursor.fetchone()
        return cls(row[0]) if row else None

    @classmethod
    def left(cls, run, entity):
        "Return the number of chunks of the run that are not done"
        return cls.search([
                ('run', '=', run.id),
                ('entity', '=', entity),
                ('state', '!=', 'done'),
                ], count=True)

    @classmethod
    def left_from_other_runs(cls, integration, entity, run):
        "Return the chunks of earlier runs of the integration not done"
        return cls.search([
                ('run.integration', '=', integration.id),
                ('run', '!=', run.id),
                ('entity', '=', entity),
                ('state', '!=', 'done'),
                ])

    def built(self, counts, seconds):
        self.state = 'built'
        self.counts = json.dumps(counts)
        self.built_by = process_name()
        self.build_seconds = round(seconds, 3)
        self.save()

    def split(self, record_lists):
        """Replace the pending chunk by a chunk of each list of its records,
        so that the one a process cannot build does not hold the others"""
        pieces = self.add(self.run, self.entity, record_lists)
        self.delete([self])
        return pieces

    def posted(self, seconds):
        self.state = 'done'
        self.payload = None
        self.post_seconds = round(seconds, 3)
        self.save()

    @classmethod
    def build_pending(cls, chunks):
        """Build the pending chunks of the runs of chunks until none is
        left (a queue task of the workers): each in a short transaction"""
        pool = Pool()
        Integration = pool.get('integration.integration')
        for run in {c.run for c in chunks}:
            if run.state != 'running':
                continue
            integration = Integration(run.integration.id)
            with Transaction().set_context({IMPORTING: True}):
                integration.connector_build_chunks(run, chunks[0].entity)

    @classmethod
    def push_builders(cls, chunks, workers):
        "Ask workers queue workers to build the pending chunks with the run"
        if not chunks or workers < 1:
            return
        with Transaction().set_context(queue_name='integration'):
            for _ in range(workers):
                cls.__queue__.build_pending(chunks[:1])
