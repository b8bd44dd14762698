"""Screenshots of the Tryton web client (sao) served by ./setup/demo --serve:
the walk of the browser test (tests/sao.py) through every screen of both
modules on the demo database; the README's pictures are copied to --out.

Run by ./setup/screenshot, which installs Chromium and the Python packages.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests import sao  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--url', default='http://127.0.0.1:8000/')
    parser.add_argument('--config', required=True,
        help="the trytond.conf of the served database")
    parser.add_argument('--database', default='demo')
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    parser.add_argument('--out', default='docs')
    parser.add_argument('--width', type=int, default=1366)
    parser.add_argument('--height', type=int, default=900)
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    shots = tempfile.mkdtemp(prefix='novagestao-screens-')
    plan_path = os.path.join(shots, 'plan.json')
    subprocess.run([sys.executable,
            os.path.join(ROOT, 'tests', 'webclient_plan.py'),
            '--config', args.config, '--database', args.database,
            '--plan', plan_path], check=True, cwd=ROOT)
    with open(plan_path) as file:
        plan = json.load(file)
    with sao.Browser(args.chromium, args.width, args.height) as browser:
        client = sao.Client(browser, shots)
        walk = sao.Walk(client, plan, args.url, args.database, shots)
        problems = walk.run()
    walk.copy_docs_screenshots(args.out)
    for name in sorted(sao.DOCS_SCREENSHOTS.values()):
        path = os.path.join(args.out, name)
        if os.path.exists(path):
            print('Saved %s' % os.path.relpath(path), flush=True)
    print('Every screen: %s' % shots)
    if problems:
        print('Problems:\n  %s' % '\n  '.join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
