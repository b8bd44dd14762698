# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Prepare a demo database for the walk through the web client and write
the plan of the walk: the menu entries of both modules, the buttons that
open a wizard, and the English strings of ours a user must never read.

Run in its own process with the database's configuration:
    python tests/webclient_plan.py --config trytond.conf --database demo \
        --plan plan.json"""
import argparse
import datetime as dt
import json
import re
import sys

from trytond.pool import Pool
from trytond.transaction import Transaction

OUR_MODULES = ['novagestao_integrations_base', 'novagestao_omie']
# Tryton's own screens our users reach through ours: they must open too and
# show which records came from Omie.
TRYTON_MENUS = [
    'party.menu_party_form',
    'account_invoice.menu_invoice_out_form',
    'account_invoice.menu_invoice_in_form',
    'account_statement.menu_statement_form',
    ]
LANGUAGES = ['pt_BR', 'pt']


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', required=True)
    parser.add_argument('--database', required=True)
    parser.add_argument('--plan', required=True)
    parser.add_argument('--webhooks', action='store_true',
        help="let the demo integration receive webhooks; print its address")
    parser.add_argument('--sandbox', help="the Omie sandbox's URL")
    args = parser.parse_args()

    import trytond.config as config
    config.update_etc(args.config)
    Pool.start()
    Pool(args.database).init()

    with Transaction().start(args.database, 0,
            context={'_skip_warnings': True}) as transaction:
        language = prepare_users()
        webhook_url = set_up_integration(args.webhooks, args.sandbox)
        transaction.commit()
    with Transaction().start(args.database, 0, readonly=True,
            context={'language': language}):
        plan = {
            'language': language,
            'menus': menus(OUR_MODULES, TRYTON_MENUS),
            'wizard_buttons': wizard_buttons(),
            'english': english_strings(language),
            'raw_values': raw_values(),
            'webhook_url': webhook_url,
            }
    with open(args.plan, 'w') as file:
        json.dump(plan, file, ensure_ascii=False, indent=1)
    return 0


def prepare_users():
    """Users read Brazilian Portuguese and are not asked to configure the
    modules at login; return the language code"""
    pool = Pool()
    Lang = pool.get('ir.lang')
    User = pool.get('res.user')
    ConfigItem = pool.get('ir.module.config_wizard.item')
    languages = Lang.search([
            ('code', 'in', LANGUAGES), ('translatable', '=', True)])
    language = min(languages, key=lambda l: LANGUAGES.index(l.code))
    admin, = User.search([('login', '=', 'admin')])
    admin.language = language
    admin.save()
    ConfigItem.write(ConfigItem.search([('state', '=', 'open')]),
        {'state': 'done'})
    return language.code


def set_up_integration(webhooks, sandbox_url):
    """Let the demo integration receive webhooks and talk to the sandbox
    Return its webhook address"""
    pool = Pool()
    Integration = pool.get('integration.integration')
    integration, = Integration.search([], limit=1)
    if webhooks:
        integration.receive_webhooks = True
    if sandbox_url:
        integration.omie_base_url = sandbox_url
    integration.save()
    set_up_channel(integration)
    set_up_duplicates(integration)
    set_up_history(integration)
    return integration.webhook_url if webhooks else None


# The remote methods of the demo's history: (method, calls a run, median ms)
HISTORY_METHODS = [
    ('ListarClientes', 2, 210), ('ListarContasPagar', 3, 340),
    ('ListarContasReceber', 3, 320), ('ListarMovimentos', 2, 450),
    ]


def set_up_history(integration, days=13):
    """Two weeks of scheduled runs before the demo's own, with their
    counters, remote methods and webhook deliveries, so that the dashboard's
    graphs show days (the demo's runs are all of today)"""
    pool = Pool()
    Counter = pool.get('integration.sync.run.counter')
    Event = pool.get('integration.webhook.event')
    Method = pool.get('integration.sync.run.method')
    Run = pool.get('integration.sync.run')
    if Run.search([('trigger', '=', 'scheduled')], limit=1):
        return
    first = min(r.start for r in Run.search([]))
    entities = ['party', 'payable', 'receivable', 'settlement']
    events = []
    for day in range(days, 0, -1):
        for slot in range(4):
            start = first - dt.timedelta(days=day, hours=6 * slot)
            seed = day * 4 + slot
            state = ('failed' if seed % 11 == 0
                else 'partial' if seed % 7 == 0 else 'done')
            run = Run(integration=integration, trigger='scheduled',
                start=start, end=start + dt.timedelta(seconds=40 + seed),
                state=state, progress=1)
            if state == 'failed':
                run.message = "O Omie não respondeu a tempo."
            run.save()
            if state != 'failed':
                Counter.create([{
                            'run': run.id, 'entity': entity,
                            'created': (seed * (i + 3)) % 9,
                            'updated': (seed + i) % 5,
                            'unchanged': 20 + i,
                            'failed': 1 if state == 'partial' and i == 1
                            else 0,
                            } for i, entity in enumerate(entities)])
            Method.create([{
                        'run': run.id, 'method': method,
                        'calls': calls + (1 if state == 'failed' else 0),
                        'retries': 1 if state == 'failed' else 0,
                        'waited': 2.5 if state == 'failed' else 0,
                        'p50_ms': median + (seed * 13) % 90,
                        'p95_ms': median * 3 + (seed * 37) % 400,
                        } for method, calls, median in HISTORY_METHODS])
            run.store_totals()
            run.save()
        for number in range(day % 5 + 1):
            events.append({
                    'integration': integration.id,
                    'message_id': 'history-%d-%d' % (day, number),
                    'topic': 'ClienteFornecedor.Alterado',
                    'received_at': first - dt.timedelta(
                        days=day, minutes=number * 37),
                    'processed_at': first - dt.timedelta(
                        days=day, minutes=number * 37 - 1),
                    'state': 'done', 'attempts': 1,
                    'ack_ms': 18 + (day * 7 + number * 5) % 40,
                    })
    Event.create(events)


def set_up_channel(integration):
    """An email channel of the finance team, so that the walk opens a
    channel's form (creating it sends nothing)"""
    pool = Pool()
    Channel = pool.get('integration.notification.channel')
    if not Channel.search([]):
        Channel(name="Equipe financeira", kind='email',
            integrations=[integration],
            addresses='financeiro@novagestao.example.com').save()


def set_up_duplicates(integration):
    """A party and a customer invoice typed by hand that repeat ones linked
    to Omie, so that Find Duplicates lists them"""
    pool = Pool()
    Binding = pool.get('integration.binding')
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')
    if Party.search([('name', '=', "Digitado à mão Ltda")]):
        return
    parties = [b.record for b in Binding.search([
                ('integration', '=', integration.id),
                ('record', 'like', 'party.party,%'),
                ], order=[('id', 'ASC')])]
    party = next(p for p in parties if p.tax_identifier)
    Party(name="Digitado à mão Ltda", addresses=[{}], identifiers=[{
                'type': party.tax_identifier.type,
                'code': party.tax_identifier.code,
                }]).save()
    invoices = [b.record for b in Binding.search([
                ('integration', '=', integration.id),
                ('record', 'like', 'account.invoice,%'),
                ], order=[('id', 'ASC')])]
    invoice = next(i for i in invoices
        if i.state == 'posted' and i.reference)
    with Transaction().set_context(company=invoice.company.id):
        Invoice.copy([invoice], default={
                'reference': invoice.reference,
                'invoice_date': invoice.invoice_date,
                })


def menus(modules, extra):
    "The menu entries with an action, each with its path of ids from the root"
    pool = Pool()
    Menu = pool.get('ir.ui.menu')
    ModelData = pool.get('ir.model.data')
    data = ModelData.search([
            ('model', '=', 'ir.ui.menu'),
            ['OR',
                ('module', 'in', modules),
                ('fs_id', 'in', [x.split('.', 1)[1] for x in extra]),
                ],
            ], order=[('id', 'ASC')])
    wanted = set(extra)
    entries = []
    for record in data:
        xml_id = '%s.%s' % (record.module, record.fs_id)
        if record.module not in modules and xml_id not in wanted:
            continue
        menu = Menu(record.db_id)
        if not menu.action:
            continue
        path = []
        parent = menu
        while parent:
            path.insert(0, parent.id)
            parent = parent.parent
        entries.append({
                'xml_id': xml_id,
                'name': menu.complete_name,
                'path': path,
                'action_type': menu.action.type,
                'model': getattr(
                    menu.action, 'res_model', None) if hasattr(
                    menu.action, 'res_model') else None,
                'ours': record.module in modules,
                })
    return entries


def opened_actions(method):
    "The 'module.xml_id' strings a button method's decorators close over"
    found = []
    seen = set()
    stack = [method]
    while stack:
        function = stack.pop()
        function = getattr(function, '__func__', function)
        if id(function) in seen:
            continue
        seen.add(id(function))
        for cell in getattr(function, '__closure__', None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, str) and re.fullmatch(r'\w+\.\w+', value):
                found.append(value)
            elif callable(value):
                stack.append(value)
        if getattr(function, '__wrapped__', None):
            stack.append(function.__wrapped__)
    return found


def wizard_buttons():
    """{model: [button]} for the buttons of our models that open a wizard or
    a window (ModelView.button_action): clicking them shows a dialog"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    result = {}
    for name, Model in pool.iterobject():
        if not hasattr(Model, '_buttons'):
            continue
        for button in Model._buttons:
            method = getattr(Model, button, None)
            if method is None:
                continue
            for xml_id in opened_actions(method):
                module, fs_id = xml_id.split('.')
                if ModelData.search([
                            ('module', '=', module), ('fs_id', '=', fs_id),
                            ('model', 'like', 'ir.action%'),
                            ]):
                    result.setdefault(name, []).append(button)
                    break
    return result


def english_strings(language):
    """The English source strings of our modules that have a different
    translation: read on a screen, they are untranslated"""
    pool = Pool()
    Translation = pool.get('ir.translation')
    translations = Translation.search([
            ('module', 'in', OUR_MODULES),
            ('lang', 'in', [language, language.split('_')[0]]),
            ('value', '!=', None),
            ('value', '!=', ''),
            ])
    english = set()
    for translation in translations:
        for source in [translation.src]:
            if (source and translation.value.strip() != source.strip()
                    and re.search('[A-Za-z]{2}', source)
                    and '%(' not in source and '\n' not in source):
                english.add(source.strip())
    return sorted(english)


def raw_values():
    """Stored codes that must never be shown raw: the entity kinds"""
    pool = Pool()
    Integration = pool.get('integration.integration')
    return sorted(key for key, label in Integration.get_entity_selection()
        if key and key != label)


if __name__ == '__main__':
    sys.exit(main())
