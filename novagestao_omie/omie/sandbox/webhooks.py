"""Omie Connect style webhooks.

One FIFO queue and one worker thread per sandbox: events go out in the order
they happened, each POSTed as JSON to the registered URL.  A non-2xx answer
or a network error is retried ``webhook_attempts`` times in total, then the
message is parked in ``dead_letters`` and the queue moves on (Omie moves it
to its DLQ).  ``flush(timeout)`` waits until the queue is empty, so tests
never sleep; ``settings.webhook_sync`` delivers inside the request instead.
"""
import hashlib
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque

ORIGIN = 'omie-connect-2.0'
# Omie's author block for changes made through the API (an integration).
API_AUTHOR = {'email': 'no-reply@omie.com.br', 'name': 'Integração',
    'userId': 89}
# Changes made "in the Omie screen" (sandbox.change) carry a person.
USER_AUTHOR = {'email': 'financeiro@novagestao.com.br',
    'name': 'Usuário Financeiro', 'userId': 48213}


def app_hash(app_name, app_key):
    "'<app-name>-<8 chars>', stable for an app key"
    digest = hashlib.sha1(str(app_key).encode()).hexdigest()[:8]
    return '%s-%s' % (app_name, digest)


class WebhookEmitter:
    def __init__(self, settings, app_key, app_name='novagestao'):
        self.settings = settings
        self.app_key = str(app_key)
        self.app_hash = app_hash(app_name, app_key)
        self.queue = deque()
        self.condition = threading.Condition()
        self.busy = False
        self.closed = False
        self.delivered = []       # recent successful messages (bounded)
        self.dead_letters = []
        self.attempts = 0
        self.sent = 0
        self.thread = None

    # -- configuration -----------------------------------------------------
    @property
    def url(self):
        return self.settings.webhook_url

    def register(self, url):
        self.settings.webhook_url = url or ''

    # -- producing ---------------------------------------------------------
    def message(self, topic, event, author=None):
        return {
            'messageId': str(uuid.uuid4()),
            'topic': topic,
            'event': event,
            'author': dict(author or API_AUTHOR),
            'appKey': self.app_key,
            'appHash': self.app_hash,
            'origin': ORIGIN,
        }

    def emit(self, topic, event, author=None):
        "Queue one event (dropped when no URL is registered, as in Omie)"
        url = self.url
        if not url:
            return None
        message = self.message(topic, event, author)
        if self.settings.webhook_sync:
            self._deliver(url, message)
            return message
        with self.condition:
            self.queue.append((url, message))
            self._ensure_worker()
            self.condition.notify_all()
        return message

    def ping(self, url=None):
        "The portal's test button: {'ping': 'omie'}; returns the HTTP status"
        url = url or self.url
        if not url:
            return None
        status, _error = self._post(url, {'ping': 'omie'})
        return status

    # -- consuming ---------------------------------------------------------
    def _ensure_worker(self):
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._work,
                name='omie-sandbox-webhooks', daemon=True)
            self.thread.start()

    def _work(self):
        while True:
            with self.condition:
                while not self.queue and not self.closed:
                    self.condition.wait()
                if self.closed and not self.queue:
                    return
                url, message = self.queue[0]
                self.busy = True
            try:
                self._deliver(url, message)
            finally:
                with self.condition:
                    self.queue.popleft()
                    self.busy = False
                    self.condition.notify_all()

    def _deliver(self, url, message):
        attempts = max(1, int(self.settings.webhook_attempts))
        status = error = None
        for attempt in range(attempts):
            if attempt:
                self.settings.sleep(self.settings.webhook_retry_delay)
            status, error = self._post(url, message)
            if status is not None and 200 <= status < 300:
                self.sent += 1
                self.delivered.append(message)
                del self.delivered[:-200]
                return True
        self.dead_letters.append({'url': url, 'message': message,
            'attempts': attempts, 'status': status, 'error': error})
        return False

    def _post(self, url, body):
        self.attempts += 1
        data = json.dumps(body, ensure_ascii=False).encode('utf-8')
        request = urllib.request.Request(url, data=data, method='POST',
            headers={'Content-Type': 'application/json; charset=utf-8',
                'User-Agent': 'Omie-Connect/2.0 (sandbox)'})
        try:
            with urllib.request.urlopen(request,
                    timeout=self.settings.webhook_timeout) as response:
                response.read()
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, str(exc)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return None, str(exc)

    def flush(self, timeout=5.0):
        "Wait until every queued message was delivered or dead-lettered"
        with self.condition:
            return self.condition.wait_for(
                lambda: not self.queue and not self.busy, timeout)

    def close(self):
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def stats(self):
        with self.condition:
            pending = len(self.queue)
        return {'url': self.url, 'pending': pending, 'sent': self.sent,
            'attempts': self.attempts,
            'dead_letters': len(self.dead_letters),
            'dead_letter_messages': [
                {'topic': d['message'].get('topic'),
                 'messageId': d['message'].get('messageId'),
                 'status': d['status'], 'error': d['error'],
                 'url': d['url']} for d in self.dead_letters[-50:]]}
