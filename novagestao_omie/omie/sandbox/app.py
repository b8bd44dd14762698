"""The WSGI application: Omie's endpoints under /api/v1/ plus /_sandbox/.

Request pipeline for an Omie call (the order matters for fidelity):
envelope -> 960/min per IP -> credentials -> company -> routing ->
misuse block -> 240/min and 4-in-flight per method -> injected faults ->
unknown tags -> redundant call -> the call itself -> latency.
"""
import json
import threading
import urllib.parse

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import calls, faults
from .calls import Context
from .rules import Injection

API_PREFIX = '/api/v1/'
HTML_ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>500 Internal Server Error</title></head>
<body><h1>Internal Server Error</h1>
<p>The server encountered an internal error and was unable to complete your
request. Either the server is overloaded or there is an error in the
application.</p><hr>
<address>Apache Server at app.omie.com.br Port 443</address>
</body></html>"""


def json_response(data, status=200, headers=None):
    body = json.dumps(data, ensure_ascii=False)
    return Response(body, status=status, headers=headers or {},
        content_type='application/json; charset=utf-8')


def fault_response(fault, extra_headers=None):
    headers = {'OmieAPI-Error': _latin1(fault.header())}
    retry_after = getattr(fault, 'retry_after', None)
    if retry_after:
        headers['Retry-After'] = str(retry_after)
    headers.update(extra_headers or {})
    return json_response(fault.body(), fault.status, headers)


def _latin1(text):
    "HTTP header values travel as latin-1; Portuguese fits, others don't"
    return text.encode('latin-1', 'replace').decode('latin-1')


def canonical(params):
    return json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)


class OmieApp:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.url_map = Map([
            Rule('/_sandbox/stats', endpoint='stats', methods=['GET']),
            Rule('/_sandbox/reset-stats', endpoint='reset_stats',
                methods=['POST']),
            Rule('/_sandbox/settings', endpoint='settings',
                methods=['GET', 'POST']),
            Rule('/_sandbox/change', endpoint='change', methods=['POST']),
            Rule('/_sandbox/webhook', endpoint='webhook',
                methods=['GET', 'POST']),
            Rule('/_sandbox/ping', endpoint='ping', methods=['POST']),
            Rule('/_sandbox/flush', endpoint='flush', methods=['POST']),
            Rule('/_sandbox/reset', endpoint='reset', methods=['POST']),
            Rule('/_sandbox/dataset', endpoint='dataset', methods=['GET']),
        ], strict_slashes=False)

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def dispatch(self, request):
        path = request.path
        if path.startswith('/_sandbox/'):
            adapter = self.url_map.bind_to_environ(request.environ)
            endpoint, _args = adapter.match()
            return getattr(self, 'admin_' + endpoint)(request)
        if path.startswith(API_PREFIX):
            service = path[len(API_PREFIX):]
            if not service.endswith('/'):
                # Omie needs the trailing slash; without it clients got a
                # redirect (and a POST turned into a GET on the way).
                if service + '/' in calls.PATHS:
                    location = request.host_url.rstrip('/') + path + '/'
                    if request.query_string:
                        location += '?' + request.query_string.decode()
                    return Response('', status=301,
                        headers={'Location': location})
                return self.not_found(path)
            if service not in calls.PATHS:
                return self.not_found(path)
            return self.omie_call(request, service)
        return self.not_found(path)

    @staticmethod
    def not_found(path):
        return Response('<html><body><h1>404 Not Found</h1><p>The requested '
            'URL %s was not found on this server.</p></body></html>'
            % path.replace('<', ''), status=404, content_type='text/html')

    # -- Omie calls -----------------------------------------------------------
    def read_envelope(self, request):
        "POST JSON body, or the legacy ?JSON=<urlencoded> form"
        legacy = request.args.get('JSON')
        if legacy is not None:
            text = legacy
        elif request.method == 'POST':
            text = request.get_data(as_text=True)
        else:
            return None
        try:
            envelope = json.loads(text)
        except ValueError as exc:
            raise faults.invalid_json(str(exc))
        if not isinstance(envelope, dict):
            raise faults.invalid_json('the body must be a JSON object')
        return envelope

    def omie_call(self, request, service):
        sandbox = self.sandbox
        settings = sandbox.settings
        rules = sandbox.rules
        ip = request.remote_addr or '127.0.0.1'
        try:
            envelope = self.read_envelope(request)
        except faults.OmieFault as fault:
            sandbox.count(service, '', fault)
            return fault_response(fault)
        if envelope is None:
            if 'WSDL' in request.args or 'wsdl' in request.args:
                return Response('<?xml version="1.0"?><definitions/>',
                    content_type='text/xml')
            return Response('Method Not Allowed', status=405,
                headers={'Allow': 'POST'})
        call_name = str(envelope.get('call') or '')
        try:
            rules.admit_global(ip)
            self.check_credentials(envelope)
            if not settings.company_active:
                raise faults.OmieFault('SOAP-ENV:Server',
                    'ERROR: A empresa está inativa ou o aplicativo foi '
                    'desativado. Acesse o Omie para reativá-lo.')
        except faults.OmieFault as fault:
            sandbox.count(service, call_name, fault)
            return fault_response(fault)
        key = (ip, str(envelope.get('app_key')), service, call_name)
        call = calls.lookup(service, call_name)
        if call is None:
            fault = faults.OmieFault('SOAP-ENV:Server',
                "Function ('%s') is not a valid method for this service"
                % call_name)
            return self.finish(service, call_name, key, None, fault)
        try:
            rules.check_block(key)
            rules.admit_method(key)
        except faults.OmieFault as fault:
            sandbox.count(service, call_name, fault)
            return fault_response(fault)
        try:
            return self.run_call(service, call, key, envelope)
        finally:
            rules.leave(key)

    def check_credentials(self, envelope):
        sandbox = self.sandbox
        status = sandbox.settings.auth_fault_status
        app_key = envelope.get('app_key')
        secret = envelope.get('app_secret')
        if isinstance(app_key, float) and app_key.is_integer():
            app_key = int(app_key)
        if app_key is None or secret is None or \
                str(app_key).strip() != str(sandbox.app_key) or \
                str(secret).strip() != str(sandbox.app_secret):
            raise faults.bad_credentials(status)

    def run_call(self, service, call, key, envelope):
        sandbox = self.sandbox
        settings = sandbox.settings
        rules = sandbox.rules
        injected = rules.injection(call.name)
        if injected is not None and injected.kind != 'lost_answer':
            response = self.injected_response(injected)
            if response is not None:
                sandbox.count(service, call.name, injected.fault,
                    injected=injected.kind)
                self.pause(settings.latency)
                return response
        params = None
        fault = None
        result = None
        try:
            params = self.read_params(call, envelope)
            calls.check_tags(call, params)
            canon = canonical(params)
            if not call.write:
                rules.check_redundant(key, canon)
            with sandbox.store.lock:
                ctx = Context(sandbox.store, settings, sandbox.cache)
                result = call.handler(ctx, params)
        except faults.OmieFault as exc:
            fault = exc
        finally:
            sandbox.dispatch_webhooks()
        self.pause(settings.latency)
        response = self.finish(service, call.name, key, params, fault,
            result, write=call.write)
        if injected is not None:
            # Omie ran the call, but its answer never reached the client
            return self.injected_response(Injection('timeout',
                    spec=injected.spec))
        return response

    def finish(self, service, call_name, key, params, fault, result=None,
            write=False):
        sandbox = self.sandbox
        canon = canonical(params) if params is not None else ''
        # Rate-limit style answers must not feed the misuse counter; a fault
        # from the call itself (bad tag, not found...) does.
        sandbox.rules.record(key, canon, fault, read=not write)
        sandbox.count(service, call_name, fault)
        headers = {}
        if sandbox.settings.parallel_header:
            headers['X-Omie-ParallelRateLimit'] = '%d/%d' % (
                sandbox.rules.in_flight_count(key),
                sandbox.settings.method_concurrency)
        if fault is not None:
            return fault_response(fault, headers)
        return json_response(result, 200, headers)

    @staticmethod
    def read_params(call, envelope):
        param = envelope.get('param', [{}])
        if isinstance(param, dict):
            param = [param]
        if not isinstance(param, list) or len(param) != 1 or \
                not isinstance(param[0], dict):
            raise faults.validation('A tag [param] deve ser um array com '
                'exatamente um objeto do tipo [%s]!' % call.type_name)
        return param[0]

    def injected_response(self, injected):
        settings = self.sandbox.settings
        if injected.kind == 'fault':
            return fault_response(injected.fault)
        if injected.kind == 'html':
            return Response(HTML_ERROR_PAGE, status=500,
                content_type='text/html; charset=iso-8859-1')
        if injected.kind == 'broken':
            return Response('Broken response from Application Server',
                status=500, content_type='text/plain')
        if injected.kind == 'timeout':
            # Hang past the client's timeout, then answer a gateway error.
            self.pause(injected.spec.get('seconds', settings.timeout_seconds))
            return Response('<html><body><h1>504 Gateway Time-out</h1>'
                '</body></html>', status=504, content_type='text/html')
        return None

    def pause(self, seconds):
        if seconds and seconds > 0:
            self.sandbox.settings.sleep(seconds)

    # -- admin endpoints ------------------------------------------------------
    @staticmethod
    def body(request):
        text = request.get_data(as_text=True)
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            data = dict(urllib.parse.parse_qsl(text))
        return data if isinstance(data, dict) else {}

    def admin_stats(self, request):
        return json_response(self.sandbox.stats_json())

    def admin_reset_stats(self, request):
        self.sandbox.reset_stats()
        return json_response({'ok': True})

    def admin_settings(self, request):
        if request.method == 'POST':
            try:
                self.sandbox.configure(**self.body(request))
            except (KeyError, TypeError, ValueError) as exc:
                return json_response({'ok': False,
                    'error': 'unknown or invalid setting: %s' % exc}, 400)
        return json_response(dict(self.sandbox.settings.as_json(), ok=True))

    def admin_change(self, request):
        data = self.body(request)
        try:
            record = self.sandbox.change(data.get('entity', ''),
                data.get('id'), _delete=bool(data.get('delete')),
                **(data.get('changes') or {}))
        except faults.OmieFault as fault:
            return json_response({'ok': False, 'error': fault.faultstring},
                404 if 'não cadastrad' in fault.faultstring else 400)
        except (KeyError, ValueError) as exc:
            return json_response({'ok': False, 'error': str(exc)}, 400)
        return json_response({'ok': True, 'record': record})

    def admin_webhook(self, request):
        if request.method == 'POST':
            self.sandbox.register_webhook(self.body(request).get('url', ''))
        return json_response({'ok': True,
            'url': self.sandbox.settings.webhook_url,
            'appHash': self.sandbox.webhooks.app_hash})

    def admin_ping(self, request):
        status = self.sandbox.ping_webhook(self.body(request).get('url'))
        return json_response({'ok': status is not None and
            200 <= status < 300, 'status': status})

    def admin_flush(self, request):
        timeout = float(self.body(request).get('timeout', 10))
        done = self.sandbox.webhooks.flush(timeout)
        return json_response({'ok': done,
            'webhooks': self.sandbox.webhooks.stats()})

    def admin_reset(self, request):
        self.sandbox.reset()
        return json_response({'ok': True})

    def admin_dataset(self, request):
        return json_response(self.sandbox.dataset.summary())


def _quiet_handler():
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        "No access log lines on stderr (tests and scripts stay readable)"

        def log_request(self, *args, **kwargs):
            pass

    return Quiet


class ServerThread:
    "A werkzeug server in a daemon thread: .url, .port, .shutdown()"

    def __init__(self, app, host='127.0.0.1', port=0, quiet=True):
        from werkzeug.serving import make_server
        handler = _quiet_handler() if quiet else None
        self.server = make_server(host, port, app, threaded=True,
            request_handler=handler)
        self.host = host
        self.port = self.server.socket.getsockname()[1]
        self.url = 'http://%s:%d' % (host, self.port)
        # A short poll interval makes shutdown() quick (tests start many).
        self.thread = threading.Thread(target=self.server.serve_forever,
            kwargs={'poll_interval': 0.02},
            name='omie-sandbox-%d' % self.port, daemon=True)
        self.thread.start()

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
