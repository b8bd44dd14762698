# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""A local SMTP server for the demo: it keeps each email it receives as a
file of a folder (name.eml), which the demo prints, instead of sending it

    python setup/smtp_server.py --port 0 --port-file smtp.port --mailbox mail

Bound to 127.0.0.1; --port 0 takes a free port, written to --port-file
once the server listens.  It runs until stopped (SIGTERM, Ctrl-C)."""
import argparse
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Mailbox:
    "The aiosmtpd handler: each message a file, named in arrival order"

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            name = '%s-%06d.eml' % (
                time.strftime('%Y%m%d%H%M%S'), len(os.listdir(self.folder)))
            path = os.path.join(self.folder, name)
            with open(path + '.part', 'wb') as file:
                file.write(envelope.original_content or envelope.content)
            # whole files only: a reader never sees half a message
            os.replace(path + '.part', path)
        return '250 Message accepted for delivery'


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--port-file', required=True)
    parser.add_argument('--mailbox', required=True)
    args = parser.parse_args()
    controller = Controller(
        Mailbox(args.mailbox), hostname='127.0.0.1', port=args.port)
    if not args.port:
        controller.port = free_port()
    controller.start()
    with open(args.port_file + '.part', 'w') as file:
        file.write('%d\n' % controller.port)
    os.replace(args.port_file + '.part', args.port_file)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()
    return 0


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


if __name__ == '__main__':
    sys.exit(main())
