# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Drive the Tryton web client (sao) in headless Chromium over the DevTools
protocol, as a user would: log in, open menu entries, lists, records, tabs
and wizards, and save screenshots.

Used by tests/test_web_client.py (the walk through every screen) and by
./setup/screenshot (the pictures of the README).  Needs websocket-client and
Debian's chromium."""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

from .processes import stop_process_group

# What sao asks for and does without: the site's optional custom.js and
# custom.css, and a locale file it falls back from (pt_BR to pt)
OPTIONAL_RESOURCE = re.compile(
    r'/(custom\.(js|css)|locale/\w+\.json)$|^chrome')

# Helpers injected into every page; every query below goes through them.
HELPERS = r"""
window.__ng = {
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
            + '.message-dialog, .concurrency-dialog').map(el => this.text(el));
    },
    dialogs() {
        return this.all('.modal.in .modal-dialog, .modal.show .modal-dialog');
    },
    topDialog() {
        const dialogs = this.dialogs();
        return dialogs.length ? dialogs[dialogs.length - 1] : null;
    },
    activeTab() {
        return document.querySelector('#tabcontent > .tab-pane.active');
    },
    tab() {
        const pane = this.activeTab();
        return pane && Sao.Tab.tabs.find(t => t.el && pane.contains(t.el[0]));
    },
    tabCount() {
        return Sao.Tab.tabs.length;
    },
    busy() {
        // sao's bus long-polls through jQuery.ajax too: that is not work.
        const bus = window.Sao && Sao.Bus && Sao.Bus.request;
        const polling = bus && bus.state && bus.state() === 'pending' ? 1 : 0;
        return jQuery.active - polling > 0 || jQuery(':animated').length > 0;
    },
    processing() {
        return this.all('#processing').length > 0;
    },
    menuRow(id) {
        const screen = Sao.main_menu_screen;
        const view = screen && screen.current_view;
        if (!view) return null;
        const find = rows => {
            for (const row of rows || []) {
                if (row.record && row.record.id === id) return row;
                const found = find(row.rows);
                if (found) return found;
            }
            return null;
        };
        return find(view.rows);
    },
    menuCell(id) {
        const row = this.menuRow(id);
        if (!row || !this.visible(row.el[0])) return null;
        // the name, not the expander before it
        return row.el[0].querySelector(
            'td:not(.selection-state):not(.optional) .cell .widget');
    },
    menuHasChildren(id) {
        const row = this.menuRow(id);
        return !!row && !!row.expander && row.tree.n_children(row) > 0;
    },
    menuExpanded(id) {
        const row = this.menuRow(id);
        return !!row && row.is_expanded() && row.rows.length > 0;
    },
    view() {
        const tab = this.tab();
        return tab && tab.screen && tab.screen.current_view;
    },
    viewDrawn() {
        // the view of the active tab is on screen, and a list that holds
        // records drew them
        const tab = this.tab();
        if (this.isBoard()) return this.boardDrawn();
        const view = this.view();
        if (!tab || !view || !view.el || !this.visible(view.el[0])) {
            return false;
        }
        if (view.view_type === 'tree') {
            return !tab.screen.group.length
                || view.el[0].querySelectorAll('tbody > tr').length > 0;
        }
        return true;
    },
    isBoard() {
        // the active tab is a board (a dashboard)
        const tab = this.tab();
        return !!tab && tab instanceof Sao.Tab.Board;
    },
    boardDrawn() {
        // every action of the board shows its view, and every graph its chart
        return this.boardPending().length === 0;
    },
    boardPending() {
        // the titles of the board's actions not drawn yet
        const tab = this.tab();
        const board = tab && tab.board;
        if (!board || !board.actions.length) return ['(the board)'];
        return board.actions.filter(action => {
            const view = action.screen && action.screen.current_view;
            if (!view || !action.el || !this.visible(action.el[0])) {
                return true;
            }
            return view.view_type === 'graph'
                && !action.el[0].querySelector('svg');
        }).map(action => this.text(action.title[0]) || action.name);
    },
    viewType() {
        const view = this.view();
        return view ? view.view_type : null;
    },
    emptyLists(root) {
        // One2Many/Many2Many lists on screen that hold records but drew no row.
        const view = this.view();
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
    // The words a user reads: every visible text, title and placeholder.
    texts(root) {
        root = root || document.body;
        const found = new Set();
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent.replace(/\s+/g, ' ').trim();
            if (text && node.parentElement
                    && this.visible(node.parentElement)) {
                found.add(text);
            }
        }
        for (const el of this.all('[title], [placeholder]', root)) {
            for (const name of ['title', 'placeholder']) {
                const value = (el.getAttribute(name) || '').trim();
                if (value) found.add(value);
            }
        }
        for (const el of this.all('select', root)) {
            for (const option of el.options) {
                const text = option.textContent.trim();
                if (text) found.add(text);
            }
        }
        return Array.from(found);
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

    def __init__(self, chromium='/usr/bin/chromium', width=1366, height=900,
            lang='pt-BR'):
        self.profile = tempfile.mkdtemp(prefix='novagestao-chromium-')
        # A file, not a pipe: Chromium keeps writing (harmless dbus errors)
        # and would block once a pipe nobody reads is full.
        self.log = open(os.path.join(self.profile, 'chromium.log'), 'w+b')
        self.process = subprocess.Popen([
                chromium,
                '--headless', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--disable-quic', '--no-first-run',
                '--no-default-browser-check',
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
                self._page_url(port), timeout=60, suppress_origin=True)
            self.send('Emulation.setDeviceMetricsOverride',
                width=width, height=height, deviceScaleFactor=1,
                mobile=False)
        except Exception:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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
            if message.get('method') == 'Page.javascriptDialogOpening':
                # sao asks before leaving a page: the walk always leaves
                self.next_id += 1
                self.ws.send(json.dumps({
                            'id': self.next_id,
                            'method': 'Page.handleJavaScriptDialog',
                            'params': {'accept': True}}))
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
        """Uncaught exceptions, console errors, and the exceptions jQuery
        caught in a Deferred: sao then leaves a list or a form half drawn
        without a dialog"""
        errors = []
        for event in self.events:
            params = event['params']
            if event['method'] == 'Runtime.exceptionThrown':
                details = params['exceptionDetails']
                errors.append(
                    details.get('exception', {}).get('description')
                    or details.get('text', ''))
            elif (event['method'] == 'Runtime.consoleAPICalled'
                    and params['type'] in {'error', 'warning', 'assert'}):
                text = ' '.join(
                    str(arg.get('value', arg.get('description', '')))
                    for arg in params['args'])
                if (params['type'] in {'error', 'assert'}
                        or text.startswith('jQuery.Deferred exception')):
                    errors.append(text)
            elif event['method'] == 'Log.entryAdded':
                entry = params['entry']
                if (entry.get('level') == 'error'
                        and not OPTIONAL_RESOURCE.search(
                            entry.get('url', ''))):
                    errors.append('%s %s' % (
                            entry.get('text', ''), entry.get('url', '')))
        return [error.strip()[:1500] for error in errors]

    def close(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:
                pass
        if self.process.poll() is None:
            # Chromium's helpers share its session: stop the whole group.
            stop_process_group(self.process, timeout=10)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Client:
    """Steps of a user in sao, with waits by polling the DOM"""
    cancel_labels = ['Cancel', 'Cancelar', 'Fechar', 'Close']

    def __init__(self, browser, out=None):
        self.browser = browser
        self.out = out
        self.failure_shot = os.path.join(
            out or tempfile.gettempdir(), 'failure.png')

    def js(self, expression):
        return self.browser.evaluate(expression)

    def wait(self, expression, what, timeout=30, errors=True):
        """Poll until the expression is truthy; fail early on error dialogs
        and JavaScript errors"""
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
        found = self.js('window.__ng ? __ng.errors() : []')
        if found:
            self.fail('An error dialog showed while waiting for %s:\n  %s' % (
                    what, '\n  '.join(found)))

    def fail(self, message, exception=Failure):
        try:
            self.capture(self.failure_shot)
            message += '\n(The page at that moment: %s)' % self.failure_shot
        except Exception:
            pass
        raise exception(message)

    def idle(self, what, timeout=60):
        """Wait until sao has no RPC in flight, no animation runs and no
        "Processing" shows"""
        self.wait('!__ng.busy() && !__ng.processing()', what, timeout=timeout)

    def click(self, expression, what, count=1, timeout=30):
        """Click the element the expression returns, once it stands still.

        The point is taken only when the element is on top there and its box
        did not move since the previous poll (dialogs slide in, the login
        dialog grows when the database list arrives)."""
        point = self.wait(
            '(() => { const el = %s; if (!el || !__ng.visible(el)) {'
            ' __ng.last = null; return null; }'
            ' el.scrollIntoView({block: "nearest", inline: "nearest"});'
            ' const r = el.getBoundingClientRect();'
            ' const x = r.left + Math.min(r.width / 2, 40),'
            ' y = r.top + r.height / 2;'
            ' const key = [r.left, r.top, r.width, r.height].join(",");'
            ' const stable = __ng.last === key; __ng.last = key;'
            ' const hit = document.elementFromPoint(x, y);'
            ' return stable && hit && (hit === el || el.contains(hit))'
            ' ? [x, y] : null; })()' % expression, what, timeout=timeout)
        x, y = point
        self.browser.send(
            'Input.dispatchMouseEvent', type='mouseMoved', x=x, y=y)
        for click_count in range(1, count + 1):
            for kind in ['mousePressed', 'mouseReleased']:
                self.browser.send(
                    'Input.dispatchMouseEvent', type=kind, x=x, y=y,
                    button='left', buttons=1 if kind == 'mousePressed' else 0,
                    clickCount=click_count)

    def type_into(self, expression, text, what):
        self.wait(
            '(() => { const el = %s; if (!el || !__ng.visible(el)'
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
        self.browser.send('Log.enable')
        self.browser.send(
            'Page.addScriptToEvaluateOnNewDocument', source=HELPERS)
        self.browser.send('Page.navigate', url=url)
        self.wait(
            'document.readyState === "complete" && !!window.__ng'
            ' && !!window.Sao', 'the web client to load', errors=False)
        # what the page left behind (its save on unload) is not this page's
        self.browser.events.clear()

    def login(self, database, login, password):
        state = self.wait(
            '(__ng.all(".login-dialog #login").length > 0'
            ' && __ng.all(".login-dialog [name=database]").length > 0'
            ' && "login") || (__ng.all("#menu tr").length && "menu")',
            'the login dialog')
        if state == 'menu':
            # the session of the page before is still open
            self.idle('the menu')
            return
        self.idle('the database list')
        # sao fills and locks the database field when the server lists only
        # one database; otherwise type it.
        current = self.js(
            '__ng.all(".login-dialog [name=database]").map(el => el.value)[0]')
        if current != database:
            self.js(
                '__ng.all(".login-dialog select[name=database]")'
                '.forEach(el => { el.value = %s; })' % json.dumps(database))
            if self.js('__ng.all(".login-dialog input[name=database]").length'):
                self.type_into(
                    '__ng.all(".login-dialog input[name=database]")[0]',
                    database, 'the database field')
        self.type_into('document.querySelector(".login-dialog #login")',
            login, 'the user name field')
        self.click('__ng.all(".login-dialog button[type=submit]")[0]',
            'the Login button')
        if self.wait('(__ng.all(".ask-dialog input[type=password]").length'
                ' && "password") || (__ng.all("#menu tr").length && "menu")',
                'the password dialog') == 'menu':
            self.idle('the menu')
            return
        # The second step asks for the password.
        self.type_into(
            '__ng.all(".ask-dialog input[type=password]")[0]', password,
            'the password dialog')
        # A click while the dialog still slides in may be swallowed: it is
        # repeated while the dialog stays.
        for attempt in range(5):
            self.click(
                '__ng.all(".ask-dialog .modal-footer .btn-primary")[0]',
                'the OK button of the password dialog')
            try:
                self.wait('!__ng.all(".login-dialog, .ask-dialog").length',
                    'the login to go through', timeout=6)
                break
            except Timeout:
                if attempt == 4:
                    raise
        self.wait('__ng.all("#menu tr").length || __ng.dialogs().length'
            ' || __ng.tabCount()', 'the menu after logging in')
        self.idle('the menu')

    def screen_ready(self, what, timeout=60, tab=True):
        "Wait until the active tab (or dialog) is drawn and quiet"
        if tab:
            self.wait('__ng.viewDrawn()', what, timeout=timeout)
        self.idle(what, timeout=timeout)
        try:
            self.wait('!__ng.emptyLists().length',
                'the lists of %s to draw their rows' % what, timeout=10)
        except Timeout:
            self.fail('These lists of %s hold records but show no row: %s'
                % (what, ', '.join(self.js('__ng.emptyLists()'))))
        self.check_errors(what)

    def settle(self, what='the screenshot'):
        """Let the last paint happen: fonts, the processing indicator"""
        self.js('document.fonts.ready.then(() => true)')
        self.screen_ready(what, tab=not self.js('__ng.dialogs().length'))
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

    def shot(self, name, what=None):
        "Save a screenshot of the page as name (.png) in the output folder"
        self.settle(what or name)
        path = os.path.join(self.out, name)
        self.capture(path)
        return path

    # Menu, lists and forms

    def open_menu(self, path):
        """Open the menu entry whose ids from the root are path, expanding
        its parents in the side menu as a user does"""
        self.wait('!!(window.Sao && Sao.main_menu_screen'
            ' && Sao.main_menu_screen.current_view)', 'the side menu')
        for menu_id in path[:-1]:
            if not self.js('__ng.menuExpanded(%d)' % menu_id):
                self.click('__ng.menuCell(%d)' % menu_id,
                    'the menu entry %d' % menu_id)
                self.wait('__ng.menuExpanded(%d)' % menu_id,
                    'the menu entry %d to expand' % menu_id)
        tabs = self.js('__ng.tabCount()')
        leaf = path[-1]
        if self.js('__ng.menuHasChildren(%d)' % leaf):
            # a click unfolds an entry with children; a double click on
            # the unfolded entry opens its action
            if not self.js('__ng.menuExpanded(%d)' % leaf):
                self.click('__ng.menuCell(%d)' % leaf,
                    'the menu entry %d' % leaf)
                self.wait('__ng.menuExpanded(%d)' % leaf,
                    'the menu entry %d to expand' % leaf)
            self.click('__ng.menuCell(%d)' % leaf,
                'the menu entry %d' % leaf, count=2)
        else:
            self.click('__ng.menuCell(%d)' % leaf,
                'the menu entry %d' % leaf)
        self.wait('__ng.tabCount() > %d || __ng.dialogs().length' % tabs,
            'the menu entry %d to open' % leaf)
        # the new tab is shown a moment after it is added
        self.wait('__ng.dialogs().length || (__ng.tab()'
            ' === Sao.Tab.tabs[Sao.Tab.tabs.length - 1])',
            'the tab of the menu entry %d to show' % leaf)

    def close_tabs(self):
        "Close every tab; nothing was changed, so none asks a question"
        for _ in range(20):
            tabs = self.js('__ng.tabCount()')
            if not tabs:
                return
            # a form still reloading (after a wizard) shows the names of
            # its Many2One fields before their values are read again:
            # closing it then would clear them (sao's set_value)
            self.idle('the tab to settle before it closes', timeout=180)
            self.js('Sao.Tab.tabs.close_current(), true')
            self.wait('__ng.tabCount() < %d || __ng.dialogs().length' % tabs,
                'the tab to close')
            if self.js('__ng.dialogs().length'):
                self.fail('Closing the tab asked a question: %s' % self.js(
                        '__ng.text(__ng.topDialog())'))
            self.idle('the tab to close')

    def list_row_count(self):
        return self.js(
            '(() => { const view = __ng.view();'
            ' return view && view.view_type === "tree"'
            ' ? view.el.find("tbody > tr").filter((i, tr) =>'
            ' __ng.visible(tr)).length : 0; })()')

    def show_all_domains(self, what):
        """A list split in tabs by state (Draft, Posted, All…) opens on the
        first, maybe empty: the last tab shows them all"""
        if not self.js('__ng.all(".tab-domain .nav-tabs a",'
                ' __ng.activeTab()).length'):
            return False
        self.click('(() => { const links = __ng.all(".tab-domain .nav-tabs a",'
            ' __ng.activeTab()); return links[links.length - 1]; })()',
            'the last tab of %s' % what)
        self.screen_ready(what)
        return True

    def open_first_record(self, what):
        """Open the first row of the active list in its form: a double click,
        or for an editable list, the row then the Switch button"""
        editable = self.js('!!(__ng.view() && __ng.view().editable)')
        tabs = self.js('__ng.tabCount()')
        self.click(
            '(() => { const view = __ng.view(); if (!view) return null;'
            ' const row = Array.from(view.el[0].querySelectorAll("tbody > tr"))'
            '.find(tr => __ng.visible(tr));'
            # a cell without a link (a double click on a link opens the
            # linked record), a check box nor a button
            ' const cells = row ? Array.from(row.querySelectorAll('
            '"td:not(.selection-state):not(.optional)")).filter('
            'td => __ng.visible(td) && !td.querySelector("button")) : [];'
            ' return cells.find(td => !td.querySelector("a, input"))'
            ' || cells[0];'
            ' })()',
            'the first row of %s' % what, count=1 if editable else 2)
        if editable:
            self.idle('the first row of %s' % what)
            self.click('__ng.all("button#switch_", __ng.activeTab())[0]',
                'the Switch button of %s' % what)
        self.wait('__ng.viewType() === "form"', 'the form of %s' % what)
        if self.js('__ng.tabCount()') != tabs:
            self.fail('Opening the first row of %s opened another tab' % what)
        self.screen_ready('the form of %s' % what)

    def notebook_tabs(self):
        "Visit every page of every notebook of the active form, nested ones too"
        visited = []
        for _ in range(60):
            label = self.js(
                '(() => { const tab = __ng.activeTab(); if (!tab) return null;'
                ' const link = __ng.all(".form .nav-tabs a", tab).find('
                'a => !a.dataset.ngVisited && !a.closest(".modal"));'
                ' if (!link) return null; link.dataset.ngVisited = "1";'
                ' link.dataset.ngTarget = "1"; return __ng.text(link); })()')
            if label is None:
                break
            self.click('document.querySelector("[data-ng-target]")',
                'the %s tab' % label)
            self.js('document.querySelector("[data-ng-target]")'
                '.removeAttribute("data-ng-target"), true')
            self.screen_ready('the %s tab' % label)
            visited.append(label)
            yield label
        return visited

    def form_buttons(self):
        "The names of the buttons shown in the active form"
        return self.js(
            '(() => { const tab = __ng.activeTab(); if (!tab) return [];'
            ' return __ng.all(".form button[name]", tab)'
            '.filter(b => !b.disabled).map(b => b.getAttribute("name")); })()')

    def click_form_button(self, name):
        self.click('__ng.all(%s, __ng.activeTab())[0]'
            % json.dumps('.form button[name="%s"]' % name),
            'the %s button' % name)

    def close_dialog(self, what):
        "Close the top dialog with its Cancel (or Close) button"
        dialogs = self.js('__ng.dialogs().length')
        self.click(
            '(() => { const dialog = __ng.topDialog(); if (!dialog) return null;'
            ' const buttons = __ng.all(".modal-footer button", dialog);'
            ' return buttons.find(b => %s.includes(__ng.text(b)))'
            ' || buttons.find(b => b.classList.contains("btn-link"))'
            ' || buttons[0]; })()' % json.dumps(self.cancel_labels),
            'the Cancel button of %s' % what)
        self.wait('__ng.dialogs().length < %d' % dialogs,
            '%s to close' % what)
        self.idle('%s to close' % what)

    def page_texts(self):
        return self.js('__ng.texts()')


# The pictures of the README, by the screen they show
DOCS_SCREENSHOTS = {
    'novagestao_integrations_base.menu_integration_form-form':
        'integration-form.png',
    'novagestao_integrations_base.menu_integration_form-list':
        'integrations-list.png',
    # the third page of the integration form: Export
    'novagestao_integrations_base.menu_integration_form-tab03':
        'integration-export.png',
    'novagestao_integrations_base.menu_sync_run_form-form':
        'sync-run.png',
    # the graphs of the runs, records, answer times and webhooks
    'novagestao_integrations_base.menu_dashboard-board': 'dashboard.png',
    'novagestao_integrations_base.menu_mapping_form-list':
        'category-mappings.png',
    # a mapping with its three best candidates
    'novagestao_integrations_base.menu_mapping_form-form':
        'category-mapping-candidates.png',
    'novagestao_integrations_base.menu_conflict_form-form':
        'data-conflict.png',
    'novagestao_integrations_base.menu_webhook_event_form-list':
        'webhook-inbox.png',
    'account_invoice.menu_invoice_in_form-list': 'supplier-invoices.png',
    # a party and an invoice typed here beside the ones linked to Omie
    'novagestao_integrations_base.menu_find_duplicates-wizard':
        'duplicates.png',
    # the last books check of the demo with its differences explained
    'novagestao_integrations_base.menu_books_check_form-form':
        'books-check.png',
    }


class Walk:
    "Every screen of the plan, opened in the browser, with what went wrong"

    def __init__(self, client, plan, url, database, shots):
        self.client = client
        self.plan = plan
        self.url = url
        self.database = database
        self.shots = shots
        self.english = set(plan['english'])
        self.raw = set(plan['raw_values'])
        self.problems = []
        self.screens = []

    def login(self):
        self.client.browser.events.clear()
        self.client.open(self.url)
        self.client.login(self.database, 'admin', 'admin')

    def run(self):
        self.login()
        for entry in self.plan['menus']:
            try:
                self.visit(entry)
            except Failure as failure:
                self.problems.append('%s (%s): %s' % (
                        entry['name'], entry['xml_id'], failure))
                if os.path.exists(self.client.failure_shot):
                    shutil.move(self.client.failure_shot, os.path.join(
                            self.shots, entry['xml_id'] + '-failure.png'))
                # start again from a fresh page for the next entry
                self.login()
        return self.problems

    def look(self, entry, screen):
        "Check the words of the screen and take its picture"
        name = '%s-%s' % (entry['xml_id'], screen)
        self.client.shot(name + '.png', '%s (%s)' % (entry['name'], screen))
        self.screens.append(name)
        if not entry['ours'] and not screen.startswith('list'):
            return
        texts = set(self.client.page_texts())
        english = sorted(texts & self.english)
        raw = sorted(texts & self.raw)
        if english:
            self.problems.append('%s, %s: English strings shown: %s' % (
                    entry['name'], screen, english))
        if raw and entry['ours']:
            self.problems.append('%s, %s: raw codes shown: %s' % (
                    entry['name'], screen, raw))

    def visit(self, entry):
        client = self.client
        client.open_menu(entry['path'])
        if client.js('__ng.isBoard()'):
            # a dashboard: its actions draw their graphs and lists
            try:
                client.wait('__ng.boardDrawn()', 'the board of %s'
                    % entry['name'], timeout=60)
            except Timeout:
                client.fail('These graphs of %s were not drawn: %s' % (
                        entry['name'], client.js('__ng.boardPending()')))
            client.screen_ready(entry['name'], tab=False)
            # the graphs side by side take the width of the side menu:
            # drawn again without it, from the top
            # (each chart is held narrow while it measures its place: its
            # own width would keep its column wider than the half)
            client.js('(() => { jQuery("#menu").addClass("hidden");'
                ' for (const svg of document.querySelectorAll(".board svg"))'
                ' { svg.style.maxWidth = "10px"; }'
                ' window.dispatchEvent(new Event("resize")); return true;'
                ' })()')
            client.js('new Promise(r => setTimeout(() => r(true), 1000))')
            client.js('(() => { for (const svg of document.querySelectorAll('
                '".board svg")) { svg.style.maxWidth = ""; } return true;'
                ' })()')
            client.wait('__ng.boardDrawn()', 'the board of %s'
                % entry['name'], timeout=60)
            client.screen_ready(entry['name'], tab=False)
            client.js('(() => { document.activeElement'
                ' && document.activeElement.blur();'
                ' for (const el of document.querySelectorAll("*")) {'
                ' if (el.scrollTop) el.scrollTop = 0;'
                ' if (el.scrollLeft) el.scrollLeft = 0; }'
                ' window.scrollTo(0, 0); return true; })()')
            self.look(entry, 'board')
            client.js('jQuery("#menu").removeClass("hidden"), true')
            client.close_tabs()
            return
        if client.js('__ng.dialogs().length'):
            # the entry opens a wizard
            client.screen_ready(entry['name'], tab=False)
            self.look(entry, 'wizard')
            client.close_dialog(entry['name'])
            return
        client.screen_ready(entry['name'])
        self.look(entry, 'list')
        if not client.list_row_count() and client.show_all_domains(
                entry['name']):
            self.look(entry, 'list')
        if client.list_row_count():
            client.open_first_record(entry['name'])
            self.look(entry, 'form')
            clicked = set()
            self.click_wizards(entry, clicked)
            for number, label in enumerate(client.notebook_tabs(), 1):
                self.look(entry, 'tab%02d' % number)
                self.click_wizards(entry, clicked)
        client.close_tabs()

    def click_wizards(self, entry, clicked):
        """Open and close each button of ours on screen that opens a wizard,
        once per form"""
        client = self.client
        if not entry['ours']:
            # Tryton's own buttons are Tryton's to test
            return
        model = client.js('__ng.tab().screen.model_name')
        buttons = self.plan['wizard_buttons'].get(model, [])
        for button in client.form_buttons():
            if button not in buttons or button in clicked:
                continue
            clicked.add(button)
            dialogs = client.js('__ng.dialogs().length')
            opened = '__ng.dialogs().length > %d' % dialogs
            # a list above that draws late may move the button under the
            # pointer: the click is repeated while no wizard opens, but
            # never while sao still works on the click before (a wizard
            # doing its work on a busy server), which would land on the
            # form reloaded beside it
            for attempt in range(3):
                client.idle('the %s button' % button, timeout=180)
                if client.js(opened):
                    break
                client.click_form_button(button)
                try:
                    client.wait(opened + ' || __ng.busy()'
                        ' || __ng.processing()',
                        'the %s wizard to start' % button, timeout=5)
                    client.idle('the %s wizard' % button, timeout=180)
                    client.wait(opened, 'the %s wizard to open' % button,
                        timeout=15 if attempt < 2 else 30)
                    break
                except Timeout:
                    if attempt == 2:
                        raise
            client.screen_ready('the %s wizard' % button, tab=False)
            self.look(entry, 'button-%s' % button)
            client.close_dialog('the %s wizard' % button)
            # the form reloads the record the wizard worked on: it must not
            # read as changed by the user once reloaded
            client.idle('the form to reload after the %s wizard' % button,
                timeout=180)
            client.wait('!__ng.tab().screen.modified()',
                'the form to be unchanged after the %s wizard' % button,
                timeout=15)

    def popup_buttons(self, xml_id, page, field):
        """The footer buttons of the pop-up that the Many2One field opens,
        on the page of the first record of the menu entry"""
        client = self.client
        entry = next(m for m in self.plan['menus'] if m['xml_id'] == xml_id)
        client.open_menu(entry['path'])
        client.screen_ready(entry['name'])
        client.open_first_record(entry['name'])
        for label in client.notebook_tabs():
            if label == page:
                break
        else:
            self.client.fail('%s has no %s page' % (entry['name'], page))
        client.click(
            '(() => { const input = __ng.all(%s, __ng.activeTab())[0];'
            ' return input && input.closest(".form-many2one")'
            '.querySelector(".icon-primary button"); })()'
            % json.dumps('input[name="%s"]' % field),
            'the open button of %s' % field)
        client.wait('__ng.dialogs().length', 'the pop-up of %s' % field)
        client.screen_ready('the pop-up of %s' % field, tab=False)
        self.look(entry, 'popup-%s' % field)
        buttons = client.js('__ng.all(".modal-footer button",'
            ' __ng.topDialog()).map(b => __ng.text(b))')
        client.close_dialog('the pop-up of %s' % field)
        client.close_tabs()
        return buttons

    def copy_docs_screenshots(self, folder):
        "Copy the README's pictures from the walk's screenshots"
        for screen, name in DOCS_SCREENSHOTS.items():
            source = os.path.join(self.shots, screen + '.png')
            if os.path.exists(source):
                shutil.copy(source, os.path.join(folder, name))
