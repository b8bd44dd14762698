# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Refresh locale/pt.po of both modules from their current strings

Existing translations are kept (matched by context, else by text); the
strings still untranslated are listed and make the command fail, so that no
label reaches users in English.  Run: ./setup/translations"""
import os
import sys
from xml.etree import ElementTree

import polib

MODULES = ['novagestao_integrations_base', 'novagestao_omie']
LANG = 'pt'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
    os.environ['DB_NAME'] = ':memory:'
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction
    activate_module(MODULES)
    missing = 0
    with Transaction().start(DB_NAME, 0):
        Translation = Pool().get('ir.translation')
        for module in MODULES:
            exported = polib.pofile(
                Translation.translation_export('en', module).decode('utf-8'))
            exported.extend(view_entries(module))
            path = os.path.join(ROOT, module, 'locale', LANG + '.po')
            old = polib.pofile(path) if os.path.exists(path) else []
            by_context = {(e.msgctxt, e.msgid): e for e in old}
            by_text = {e.msgid: e for e in old if translated(e)}
            result = polib.POFile(wrapwidth=78)
            result.metadata = {'Content-Type': 'text/plain; charset=utf-8'}
            for entry in sorted(exported, key=lambda e: (e.msgctxt, e.msgid)):
                known = (by_context.get((entry.msgctxt, entry.msgid))
                    or by_text.get(entry.msgid))
                if known is not None and (
                        known.msgid_plural != entry.msgid_plural):
                    known = None
                if known is None or not translated(known):
                    missing += 1
                    print("untranslated %s: %s" % (module, entry.msgid))
                new = polib.POEntry(
                    msgctxt=entry.msgctxt, msgid=entry.msgid,
                    flags=entry.flags)
                if entry.msgid_plural:
                    # a message of a count: its singular and plural forms
                    new.msgid_plural = entry.msgid_plural
                    new.msgstr_plural = dict(known.msgstr_plural) if known \
                        else {0: '', 1: ''}
                else:
                    new.msgstr = known.msgstr if known else ''
                result.append(new)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            result.save(path)
    return 1 if missing else 0


def translated(entry):
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(
            entry.msgstr_plural.values())
    return bool(entry.msgstr)


def view_entries(module):
    "Entries for the string attributes of the module's views"
    folder = os.path.join(ROOT, module)
    models = {}
    for name in os.listdir(folder):
        if not name.endswith('.xml'):
            continue
        tree = ElementTree.parse(os.path.join(folder, name))
        for record in tree.iter('record'):
            if record.get('model') != 'ir.ui.view':
                continue
            values = {f.get('name'): (f.text or '') for f in record}
            if values.get('model') and values.get('name'):
                models[values['name']] = values['model']
    entries, seen = [], set()
    for view, model in sorted(models.items()):
        tree = ElementTree.parse(os.path.join(folder, 'view', view + '.xml'))
        for element in tree.iter():
            text = element.get('string')
            if text and (model, text) not in seen:
                seen.add((model, text))
                entries.append(polib.POEntry(
                        msgctxt='view:%s:' % model, msgid=text, msgstr=''))
    return entries


if __name__ == '__main__':
    sys.exit(main())
