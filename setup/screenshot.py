"""Drive headless Chromium over the DevTools protocol through the Tryton web
client (sao): log in, open Integrations > Integrations and the demo
integration, and save PNG screenshots.

Run by ./setup/screenshot, which installs Chromium and websocket-client.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

DATABASE = 'demo'
LOGIN = 'admin'
PASSWORD = 'admin'
INTEGRATION = 'Omie (sandbox)'
# The menu and tab labels in the languages the demo database has.
MENU = ['Integrations', 'Integrações']
TABS = {
    'Connection': ['Connection', 'Conexão'],
    'History': ['History', 'Histórico'],
    }
CANCEL = ['Cancel', 'Cancelar']

# Helpers injected into the page; every query below goes through them.
HELPERS = r"""
window.__shot = {
    visible(el) {
        if (!el) return false;
        const rect = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        return rect.width > 0 && rect.height > 0
            && style.visibility !== 'hidden' && style.display !== 'none';
    },
    text(el) {
        // textContent: innerText would apply the CSS upper-casing of buttons.
        return (el.textContent || '').replace(/\s+/g, ' ').trim();
    },
    all(selector, root) {
        return Array.from((root || document).querySelectorAll(selector))
            .filter(el => this.visible(el));
    },
    withText(selector, texts, root) {
        return this.all(selector, root).filter(el => texts.includes(this.text(el)));
    },
    errors() {
        return this.all('.error-dialog, .warning-dialog, .user-warning-dialog, '
            + '.message-dialog').map(el => this.text(el));
    },
    activeTab() {
        return document.querySelector('#tabcontent > .tab-pane.active');
    },
    busy() {
        // sao's bus long-polls through jQuery.ajax too: that is not work.
        const bus = window.Sao && Sao.Bus && Sao.Bus.request;
        const polling = bus && bus.state && bus.state() === 'pending' ? 1 : 0;
        return jQuery.active - polling > 0 || jQuery(':animated').length > 0;
    },
    emptyLists() {
        // One2Many/Many2Many lists on screen that hold records but drew no row.
        const pane = this.activeTab();
        const tab = pane && Sao.Tab.tabs.find(t => t.el && pane.contains(t.el[0]));
        const view = tab && tab.screen && tab.screen.current_view;
        const empty = [];
        for (const [name, widgets] of Object.entries((view && view.widgets) || {})) {
            for (const widget of widgets) {
                const screen = widget.screen;
                const list = screen && screen.current_view;
                if (!list || list.view_type !== 'tree' || !widget.el
                    || !this.visible(widget.el[0])) continue;
                if (screen.group.length && !list.el.find('tbody > tr').length) {
                    empty.push(name);
                }
            }
        }
        return empty;
    },
};
true
"""


class Failure(Exception):
    pass


class Timeout(Failure):
    pass


class Browser:
    """Headless Chromium with a fresh profile, and one DevTools page."""

    def __init__(self, chromium, width, height, lang):
        self.profile = tempfile.mkdtemp(prefix='novagestao-chromium-')
        # A file, not a pipe: Chromium keeps writing (harmless dbus errors)
        # and would block once a pipe nobody reads is full.
        self.log = open(os.path.join(self.profile, 'chromium.log'), 'w+b')
        self.process = subprocess.Popen([
                chromium,
                '--headless', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--no-first-run', '--no-default-browser-check',
                '--hide-scrollbars', '--lang=' + lang, '--accept-lang=' + lang,
                '--user-data-dir=' + self.profile,
                '--window-size=%d,%d' % (width, height),
                '--remote-debugging-address=127.0.0.1',
                '--remote-debugging-port=0',
                'about:blank',
                ],
            stdout=subprocess.DEVNULL, stderr=self.log,
            start_new_session=True)
        self.ws = None
        self.next_id = 0
        self.events = []
        try:
            port = self._devtools_port()
            self.ws = websocket.create_connection(
                self._page_url(port), timeout=30, suppress_origin=True)
        except Exception:
            self.close()
            raise

    def _devtools_port(self):
        # With port 0 Chromium picks a free port and writes it here.
        active = os.path.join(self.profile, 'DevToolsActivePort')
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise Failure('Chromium exited: %s'
                    % self.log.read().decode(errors='replace')[-2000:])
            try:
                with open(active) as file:
                    port = file.readline().strip()
                if port:
                    return int(port)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise Failure('Chromium did not open its DevTools port')

    def _page_url(self, port):
        url = 'http://127.0.0.1:%d/json/list' % port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=5) as response:
                targets = json.load(response)
            for target in targets:
                if target.get('type') == 'page':
                    return target['webSocketDebuggerUrl']
            time.sleep(0.05)
        raise Failure('Chromium has no page target')

    def send(self, method, **params):
        self.next_id += 1
        message_id = self.next_id
        self.ws.send(json.dumps(
                {'id': message_id, 'method': method, 'params': params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get('id') == message_id:
                if 'error' in message:
                    raise Failure('%s: %s' % (method, message['error']))
                return message.get('result', {})
            if 'method' in message:
                self.events.append(message)

    def evaluate(self, expression):
        result = self.send(
            'Runtime.evaluate', expression=expression, returnByValue=True,
            awaitPromise=True)
        if 'exceptionDetails' in result:
            details = result['exceptionDetails']
            raise Failure('JavaScript error in %r: %s' % (
                    expression[:200],
                    details.get('exception', {}).get('description')
                    or details.get('text')))
        return result['result'].get('value')

    def javascript_errors(self):
        """Uncaught exceptions, and those jQuery caught in a Deferred:
        sao then leaves a list or a form half drawn without a dialog."""
        errors = []
        for event in self.events:
            params = event['params']
            if event['method'] == 'Runtime.exceptionThrown':
                details = params['exceptionDetails']
                errors.append(
                    details.get('exception', {}).get('description')
                    or details.get('text', ''))
            elif (event['method'] == 'Runtime.consoleAPICalled'
                    and params['type'] in {'error', 'warning'}):
                text = ' '.join(
                    str(arg.get('value', arg.get('description', '')))
                    for arg in params['args'])
                if (params['type'] == 'error'
                        or text.startswith('jQuery.Deferred exception')):
                    errors.append(text)
        return [error.strip()[:1500] for error in errors]

    def close(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:
                pass
        if self.process.poll() is None:
            # Chromium's helpers share its session: stop the whole group.
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Client:
    """Steps of a user in sao, with waits by polling the DOM."""

    def __init__(self, browser, out):
        self.browser = browser
        self.out = out

    def js(self, expression):
        return self.browser.evaluate(expression)

    def wait(self, expression, what, timeout=30, errors=True):
        """Poll until the expression is truthy; fail early on error dialogs."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if errors:
                self.check_errors(what)
            if time.monotonic() > deadline:
                self.fail('Timed out waiting for %s' % what, Timeout)
            time.sleep(0.1)

    def check_errors(self, what):
        exceptions = self.browser.javascript_errors()
        if exceptions:
            self.fail(
                'The web client raised a JavaScript error while waiting for'
                ' %s:\n  %s' % (what, '\n  '.join(exceptions)))
        found = self.js('window.__shot ? __shot.errors() : []')
        if found:
            self.fail('An error dialog showed while waiting for %s:\n  %s' % (
                    what, '\n  '.join(found)))

    def fail(self, message, exception=Failure):
        path = os.path.join(tempfile.gettempdir(), 'novagestao-screenshot-failure.png')
        try:
            self.capture(path)
            message += '\n(The page at that moment: %s)' % path
        except Exception:
            pass
        raise exception(message)

    def idle(self, what):
        """Wait until sao has no RPC in flight and no animation runs."""
        self.wait('!__shot.busy()', what)

    def click(self, expression, what, count=1):
        """Click the element the expression returns, once it stands still.

        The point is taken only when the element is on top there and its box
        did not move since the previous poll (dialogs slide in, the login
        dialog grows when the database list arrives).
        """
        point = self.wait(
            '(() => { const el = %s; if (!el || !__shot.visible(el)) {'
            ' __shot.last = null; return null; }'
            ' el.scrollIntoView({block: "nearest", inline: "nearest"});'
            ' const r = el.getBoundingClientRect();'
            ' const x = r.left + Math.min(r.width / 2, 40),'
            ' y = r.top + r.height / 2;'
            ' const key = [r.left, r.top, r.width, r.height].join(",");'
            ' const stable = __shot.last === key; __shot.last = key;'
            ' const hit = document.elementFromPoint(x, y);'
            ' return stable && hit && (hit === el || el.contains(hit))'
            ' ? [x, y] : null; })()' % expression, what)
        x, y = point
        self.browser.send('Input.dispatchMouseEvent', type='mouseMoved', x=x, y=y)
        for click_count in range(1, count + 1):
            for kind in ['mousePressed', 'mouseReleased']:
                self.browser.send(
                    'Input.dispatchMouseEvent', type=kind, x=x, y=y,
                    button='left', buttons=1 if kind == 'mousePressed' else 0,
                    clickCount=click_count)

    def type_into(self, expression, text, what):
        self.wait(
            '(() => { const el = %s; if (!el || !__shot.visible(el)'
            ' || el.disabled) return false; el.focus(); el.select();'
            ' return document.activeElement === el; })()' % expression, what)
        self.browser.send('Input.insertText', text=text)

    def capture(self, path):
        data = self.browser.send(
            'Page.captureScreenshot', format='png', captureBeyondViewport=False)
        with open(path, 'wb') as file:
            file.write(base64.b64decode(data['data']))

    def open(self, url):
        self.browser.send('Page.enable')
        self.browser.send('Runtime.enable')
        self.browser.send(
            'Page.addScriptToEvaluateOnNewDocument', source=HELPERS)
        self.browser.send('Page.navigate', url=url)
        self.wait(
            'document.readyState === "complete" && !!window.__shot'
            ' && !!window.Sao', 'the web client to load', errors=False)

    def login(self):
        self.wait(
            '__shot.all(".login-dialog #login").length > 0'
            ' && __shot.all(".login-dialog input[name=database]").length > 0',
            'the login dialog')
        self.idle('the database list')
        # sao fills and locks the database field when the server lists only
        # one database; otherwise type it.
        database = self.js(
            '__shot.all(".login-dialog [name=database]").map(el => el.value)[0]')
        if database != DATABASE:
            self.js(
                '__shot.all(".login-dialog select[name=database]")'
                '.forEach(el => { el.value = %s; })' % json.dumps(DATABASE))
            if self.js('__shot.all(".login-dialog input[name=database]").length'):
                self.type_into(
                    '__shot.all(".login-dialog input[name=database]")[0]',
                    DATABASE, 'the database field')
        self.type_into('document.querySelector(".login-dialog #login")',
            LOGIN, 'the user name field')
        self.click('__shot.all(".login-dialog button[type=submit]")[0]',
            'the Login button')
        # The second step asks for the password.
        self.type_into(
            '__shot.all(".ask-dialog input[type=password]")[0]', PASSWORD,
            'the password dialog')
        self.click('__shot.all(".ask-dialog .modal-footer .btn-primary")[0]',
            'the OK button of the password dialog')
        self.wait('!__shot.all(".login-dialog, .ask-dialog").length',
            'the login to go through')

    def close_start_wizards(self):
        """Cancel the actions sao runs at login before it shows the menu.

        Until the administrator has run the Module Configuration wizard,
        it opens at each login, and the menu loads only once it is done.
        """
        wizard = '__shot.all(".wizard-form, .wizard-dialog")'
        for _ in range(10):
            state = self.wait(
                '(__shot.all("#menu tr").length && "menu")'
                ' || (%s.length && "wizard")' % wizard,
                'the menu after logging in')
            if state == 'menu':
                self.idle('the menu')
                return
            self.idle('the start wizard')
            # sao ignores the buttons while the wizard still processes its
            # state; the click is repeated if it was swallowed all the same.
            self.wait(
                '!Sao.Tab.tabs.some(tab => tab.wizard'
                ' && (tab.wizard.__processing || !tab.wizard.__waiting_response))',
                'the start wizard to be ready')
            for _ in range(5):
                if not self.js('%s.length' % wizard):
                    break
                self.click(
                    '__shot.withText("button", %s, %s[0])[0]'
                    % (json.dumps(CANCEL), wizard),
                    'the Cancel button of the start wizard')
                try:
                    self.wait('!%s.length' % wizard,
                        'the start wizard to close', timeout=5)
                    break
                except Timeout:
                    continue
            else:
                self.fail('The start wizard does not close')
        self.fail('The start wizards keep opening')

    def open_menu(self):
        menu = json.dumps(MENU)
        self.click('__shot.withText("#menu tr", %s)[0]' % menu,
            'the Integrations menu')
        # The parent expands and shows its children, the first of which is
        # the Integrations action.
        self.wait('__shot.withText("#menu tr", %s).length >= 2' % menu,
            'the Integrations menu to expand')
        self.click(
            '__shot.withText("#menu tr", %s)[1].querySelector("td:not('
            '.selection-state):not(.optional) .cell")' % menu,
            'the Integrations menu entry')
        self.wait(
            '(() => { const tab = __shot.activeTab();'
            ' return tab && __shot.withText("td", [%s], tab).length; })()'
            % json.dumps(INTEGRATION), 'the Integrations list')
        self.idle('the Integrations list')

    def open_integration(self):
        self.click(
            '__shot.withText("td", [%s], __shot.activeTab())[0]'
            % json.dumps(INTEGRATION), 'the %s row' % INTEGRATION, count=2)
        self.wait(
            '(() => { const tab = __shot.activeTab(); if (!tab) return false;'
            ' const name = tab.querySelector(".form [name=name] input, '
            '.form input[name=name]");'
            ' return name && name.value === %s'
            ' && __shot.withText(".nav-tabs a", %s, tab).length; })()'
            % (json.dumps(INTEGRATION), json.dumps(TABS['Connection'])),
            'the %s form' % INTEGRATION)
        self.idle('the %s form' % INTEGRATION)

    def open_page(self, name):
        labels = json.dumps(TABS[name])
        self.click('__shot.withText(".nav-tabs a", %s, __shot.activeTab())[0]'
            % labels, 'the %s tab' % name)
        self.wait(
            '(() => { const a = __shot.withText(".nav-tabs a", %s,'
            ' __shot.activeTab())[0]; return a'
            ' && a.parentElement.classList.contains("active"); })()' % labels,
            'the %s tab to open' % name)
        self.idle('the %s tab' % name)

    def settle(self):
        """Let the last paint happen: fonts, the processing indicator."""
        self.js('document.fonts.ready.then(() => true)')
        self.idle('the screenshot')
        self.wait('!__shot.all("#processing").length',
            'the processing indicator to go', timeout=10)
        try:
            self.wait('!__shot.emptyLists().length',
                'the lists of the form to draw their rows', timeout=10)
        except Timeout:
            self.fail('These lists hold records but show no row: %s'
                % ', '.join(self.js('__shot.emptyLists()')))
        self.check_errors('the screenshot')
        # No blinking text caret in the picture (sao may focus a field again
        # after a blur, so it is also made transparent).
        self.js('document.activeElement && document.activeElement.blur(), true')
        self.js(
            'document.getElementById("novagestao-no-caret") || document.head'
            '.appendChild(Object.assign(document.createElement("style"), {'
            ' id: "novagestao-no-caret",'
            ' textContent: "* { caret-color: transparent !important; }"})), true')
        self.js('new Promise(r => requestAnimationFrame(() =>'
            ' requestAnimationFrame(() => r(true))))')

    def shot(self, name):
        self.settle()
        path = os.path.join(self.out, name)
        self.capture(path)
        print('Saved %s' % os.path.relpath(path), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--url', default='http://127.0.0.1:8000/')
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    parser.add_argument('--out', default='docs')
    parser.add_argument('--width', type=int, default=1400)
    parser.add_argument('--height', type=int, default=900)
    parser.add_argument('--lang', default='en-US',
        help="the browser's language: the login dialog uses it; after login"
        " sao uses the user's language, else the database default")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    browser = Browser(args.chromium, args.width, args.height, args.lang)
    try:
        browser.send('Emulation.setDeviceMetricsOverride',
            width=args.width, height=args.height, deviceScaleFactor=1,
            mobile=False)
        client = Client(browser, args.out)
        client.open(args.url)
        client.login()
        client.close_start_wizards()
        client.open_menu()
        client.open_integration()
        client.shot('integrations-menu.png')
        client.open_page('History')
        client.shot('integration-history.png')
    except Failure as exception:
        print('Screenshot failed: %s' % exception, file=sys.stderr)
        return 1
    finally:
        browser.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
