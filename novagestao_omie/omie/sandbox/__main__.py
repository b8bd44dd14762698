"""Serve the Omie sandbox: ``python -m novagestao_omie.omie.sandbox``.

Binds 127.0.0.1 unless told otherwise.  The credentials printed are the
sandbox's public demo ones (nothing secret lives here).
"""
import argparse
import datetime as dt
import signal
import sys
import threading
import time

from . import Sandbox, SandboxSettings, generate_dataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog='python -m novagestao_omie.omie.'
        'sandbox', description='Local emulator of the Omie ERP JSON API.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8069,
        help='0 picks a free port (see --url-file)')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--parties', type=int, default=200)
    parser.add_argument('--titles', type=int, default=2000)
    parser.add_argument('--movements', type=int, default=1000)
    parser.add_argument('--today', default=None,
        help='dd/mm/aaaa; default: today in America/Sao_Paulo')
    parser.add_argument('--app-key', default=Sandbox.DEFAULT_APP_KEY)
    parser.add_argument('--app-secret', default=Sandbox.DEFAULT_APP_SECRET)
    parser.add_argument('--webhook-url', default='')
    parser.add_argument('--no-limits', action='store_true',
        help='disable rate limits, redundancy and misuse rules')
    parser.add_argument('--status-spelling', default='A VENCER',
        choices=['A VENCER', 'AVENCER'])
    parser.add_argument('--url-file', default=None,
        help='write the base URL here once listening')
    parser.add_argument('--verbose', action='store_true',
        help='log every request')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    today = None
    if args.today:
        today = dt.datetime.strptime(args.today, '%d/%m/%Y').date()
    started = time.time()
    dataset = generate_dataset(seed=args.seed, parties=args.parties,
        titles=args.titles, movements=args.movements, today=today)
    settings = SandboxSettings(webhook_url=args.webhook_url,
        limits_enabled=not args.no_limits,
        status_spelling=args.status_spelling)
    sandbox = Sandbox(dataset, app_key=args.app_key,
        app_secret=args.app_secret, settings=settings)
    server = sandbox.serve(host=args.host, port=args.port,
        quiet=not args.verbose)
    summary = dataset.summary()
    print('Omie sandbox listening on %s (dataset built in %.1fs)'
        % (server.url, time.time() - started))
    print('  API base:   %s/api/v1/' % server.url)
    print('  app_key:    %s' % sandbox.app_key)
    print('  app_secret: %s' % sandbox.app_secret)
    print('  dataset:    %s' % ', '.join('%s=%s' % item
        for item in summary.items()))
    print('  admin:      %s/_sandbox/stats, /_sandbox/settings, '
        '/_sandbox/change, /_sandbox/webhook, /_sandbox/ping'
        % server.url)
    sys.stdout.flush()
    if args.url_file:
        with open(args.url_file, 'w') as handle:
            handle.write(server.url + '\n')

    stop = threading.Event()
    for name in ('SIGINT', 'SIGTERM'):
        signal.signal(getattr(signal, name), lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    sandbox.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
