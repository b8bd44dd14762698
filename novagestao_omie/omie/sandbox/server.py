"""The Sandbox object: a store, rules, webhooks and the WSGI app together."""
import threading
from collections import Counter

from . import faults
from .app import OmieApp, ServerThread
from .calls import ListCache
from .dataset import gc_paused
from .rules import Rules, SandboxSettings
from .store import Store
from .webhooks import USER_AUTHOR, WebhookEmitter

# Names accepted by change(); each maps to how the record is found.
ENTITIES = {
    'party': 'party', 'cliente': 'party', 'clientes': 'party',
    'client': 'party', 'supplier': 'party', 'fornecedor': 'party',
    'payable': 'CP', 'conta_pagar': 'CP', 'contapagar': 'CP', 'cp': 'CP',
    'receivable': 'CR', 'conta_receber': 'CR', 'contareceber': 'CR',
    'cr': 'CR',
    'category': 'category', 'categoria': 'category',
    'movement': 'movement', 'lancamento': 'movement', 'lanccc': 'movement',
    'invoice': 'invoice', 'nf': 'invoice', 'nfe': 'invoice',
}


class Stats(Counter):
    "Calls per (path, call), plus faults per faultcode"

    def __init__(self):
        super().__init__()
        self.faults = Counter()
        self.injected = Counter()
        self.lock = threading.Lock()

    def as_json(self):
        with self.lock:
            return {
                'total': sum(self.values()),
                'calls': {'%s %s' % key: n for key, n in sorted(self.items())},
                'faults': dict(self.faults),
                'injected': dict(self.injected),
            }


class Sandbox:
    "A local Omie for one company (one app_key/app_secret pair)"

    # Public demo credentials: the sandbox is not a secret keeper.
    DEFAULT_APP_KEY = '1234567890123'
    DEFAULT_APP_SECRET = '0123456789abcdef0123456789abcdef'

    def __init__(self, dataset, app_key=DEFAULT_APP_KEY,
            app_secret=DEFAULT_APP_SECRET, settings=None):
        self.dataset = dataset
        self.app_key = str(app_key)
        self.app_secret = str(app_secret)
        self.settings = settings or SandboxSettings()
        self.rules = Rules(self.settings)
        self.webhooks = WebhookEmitter(self.settings, self.app_key,
            getattr(dataset, 'app_name', 'novagestao'))
        self.stats = Stats()
        self._pending = []
        self._emit_lock = threading.Lock()
        self._author = None
        self.store = None
        self.reset()
        self.app = OmieApp(self)
        self.servers = []

    # -- state ------------------------------------------------------
    def reset(self):
        "Back to the dataset as generated (stats and rules too)"
        with gc_paused():
            self.store = Store(self.dataset, self._clock, self._on_change)
        self.cache = ListCache()
        self.rules.reset()
        self.reset_stats()

    def _clock(self):
        # Read through settings so a clock swapped at run time applies.
        return self.settings.clock()

    def _on_change(self, topic, event):
        # Called under the store lock; delivery happens after it is released.
        self._pending.append((topic, event, self._author))

    def dispatch_webhooks(self):
        with self._emit_lock:
            with self.store.lock:
                pending, self._pending = self._pending, []
            for topic, event, author in pending:
                self.webhooks.emit(topic, event, author)

    def configure(self, **changes):
        "Change settings at run time (same names as SandboxSettings)"
        reseed = 'seed' in changes
        self.settings.update(changes)
        if reseed:
            self.rules.random.seed(self.settings.seed)
        return self.settings

    def count(self, path, call, fault=None, injected=None):
        with self.stats.lock:
            self.stats[(path, call)] += 1
            if fault is not None:
                self.stats.faults[fault.faultcode] += 1
            if injected:
                self.stats.injected[injected] += 1

    def reset_stats(self):
        with self.stats.lock:
            self.stats.clear()
            self.stats.faults.clear()
            self.stats.injected.clear()

    def stats_json(self):
        data = self.stats.as_json()
        data['webhooks'] = self.webhooks.stats()
        data['dataset'] = self.dataset.summary()
        return data

    # -- changes "made in Omie's screens" ------------------------------------
    def change(self, entity, omie_id, _delete=False, **changes):
        """Modify (or delete with _delete=True) a record as an Omie user
        would: info.dAlt/hAlt move to now and the webhook goes out.

        entity: 'party', 'payable', 'receivable', 'category' (id = codigo),
        'movement' (nCodLanc) or 'invoice' (nIdNF; cancelar=True cancels).
        For titles, status_titulo='CANCELADO' cancels.  Returns the record
        as the API would show it.
        """
        kind = ENTITIES.get(str(entity).lower())
        if kind is None:
            raise KeyError('unknown entity %r (use one of %s)' % (
                entity, ', '.join(sorted(set(ENTITIES)))))
        store = self.store
        with store.lock:
            self._author = USER_AUTHOR
            try:
                result = self._change(store, kind, omie_id, _delete, changes)
            finally:
                self._author = None
        self.dispatch_webhooks()
        return result

    def _change(self, store, kind, omie_id, delete, changes):
        today = store.today()
        spelling = self.settings.status_spelling
        if kind == 'party':
            party = store.party(omie_id)
            if delete:
                store.delete_party(party)
                return {'codigo_cliente_omie': party['codigo_cliente_omie']}
            return store.render_party(store.update_party(party, changes))
        if kind in ('CP', 'CR'):
            row = store.title(kind, omie_id)
            if delete:
                store.delete_title(row)
                return {'codigo_lancamento_omie': row.id}
            if str(changes.get('status_titulo', '')).upper() == 'CANCELADO':
                changes.pop('status_titulo')
                if changes:
                    store.update_title(row, changes)
                store.cancel_title(row)
            else:
                store.update_title(row, changes)
            return store.render_title(row, today, spelling)
        if kind == 'category':
            return dict(store.change_category(str(omie_id), changes))
        if kind == 'movement':
            return store.change_movement(omie_id, changes, delete)
        if kind == 'invoice':
            return store.change_invoice(omie_id, changes).rec
        raise KeyError(kind)

    # -- webhooks -------------------------------------------------------
    def register_webhook(self, url):
        self.webhooks.register(url)

    def ping_webhook(self, url=None):
        return self.webhooks.ping(url)

    # -- serving --------------------------------------------------------
    def wsgi_app(self, environ, start_response):
        return self.app(environ, start_response)

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)

    def serve(self, host='127.0.0.1', port=0, quiet=True):
        """Start a threaded server in a daemon thread; returns it (.url,
        .port, .shutdown()).  quiet=False logs each request like werkzeug."""
        server = ServerThread(self.app, host, port, quiet=quiet)
        self.servers.append(server)
        return server

    def shutdown(self):
        for server in self.servers:
            server.shutdown()
        self.servers = []
        self.webhooks.close()


__all__ = ['Sandbox', 'SandboxSettings', 'Stats', 'faults']
