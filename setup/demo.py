# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Set up the demo company and Omie integration, then synchronise.

Run by ./setup/demo, which creates the database and starts the sandbox."""
import argparse
import logging
import os
import sys
import time

import sandbox_changes
from demo_export import export_demo

COMPANY_NAME = "NovaGestão Demo Ltda"
INTEGRATION_NAME = "Omie (sandbox)"
CHANNEL_NAME = "Equipe financeira"
CHANNEL_ADDRESS = 'financeiro@novagestao.example.com'


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', required=True)
    parser.add_argument('--database', required=True)
    parser.add_argument('--sandbox', required=True, help="the sandbox URL")
    parser.add_argument('--changes', type=int, default=25,
        help="records to change in the sandbox before the incremental sync")
    parser.add_argument('--log', help="the file of the log lines "
        "(the Omie client's retries, trytond's messages)")
    parser.add_argument('--verbose', action='store_true',
        help="print the log lines too")
    parser.add_argument('--mailbox', help="the folder where the local SMTP "
        "server keeps the emails it receives: the notifications queued are "
        "sent and the emails printed")
    args = parser.parse_args()
    # the log lines go to a file, so that they do not break the report
    logging.basicConfig(
        filename=None if args.verbose else args.log,
        level=logging.INFO if args.verbose else logging.WARNING,
        format='%(asctime)s %(levelname)s %(name)s %(message)s')

    import trytond.config as config
    config.update_etc(args.config)
    from trytond.pool import Pool
    Pool.start()
    pool = Pool(args.database)
    pool.init()

    integration_id = set_up(args.database, args.sandbox)
    if not test_connection(args.database, integration_id):
        return 1
    ok = synchronise(args.database, integration_id, "First full sync")
    released, mistake = map_categories(args.database, integration_id)
    if released:
        ok = synchronise(
            args.database, integration_id,
            "Sync of the titles released by the mappings", 'retry') and ok
    changed = change_sandbox(
        args.sandbox, args.changes, import_start(args.database, integration_id))
    print("\nChanged %d records in Omie (the sandbox)." % changed)
    ok = synchronise(
        args.database, integration_id, "Incremental sync") and ok
    ok = recategorise(args.database, integration_id, mistake) and ok
    ok = export_demo(
        args.database, integration_id, args.sandbox, synchronise) and ok
    if args.mailbox:
        ok = notify(args.database, integration_id, args.mailbox) and ok
    return 0 if ok else 1


def set_up(database, sandbox_url):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from novagestao_integrations_base.tests.tools import (
        create_brazilian_company, run_committed)
    from novagestao_omie.omie.sandbox import Sandbox

    def find_company():
        Company = Pool().get('company.company')
        companies = Company.search([('party.name', '=', COMPANY_NAME)])
        if companies:
            return companies[0].id

    def create_company():
        # run again from the start when the transaction must be restarted
        company_id = find_company()
        if company_id:
            return company_id
        company = create_brazilian_company(COMPANY_NAME)
        add_result_accounts(company)
        return company.id

    with Transaction().start(database, 0, readonly=True):
        company_id = find_company()
    if not company_id:
        print("Creating the demo company %s (BRL, chart of accounts, "
            "fiscal years, São Paulo time)" % COMPANY_NAME)
        company_id = run_committed(database, create_company)

    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        Integration = pool.get('integration.integration')
        Lang = pool.get('ir.lang')
        User = pool.get('res.user')
        ConfigWizardItem = pool.get('ir.module.config_wizard.item')
        Configuration = pool.get('ir.configuration')
        company = Company(company_id)
        admin, = User.search([('login', '=', 'admin')])
        if company not in admin.companies:
            admin.companies = list(admin.companies) + [company]
        admin.company = company
        # Brazilian finance teams read the client in Brazilian Portuguese
        # (the pt_BR language of novagestao_integrations_base)
        brazilian, = Lang.search([('code', '=', 'pt_BR')])
        admin.language = brazilian
        admin.save()
        configuration = Configuration(1)
        configuration.language = brazilian.code
        configuration.save()
        # the demo did what the module configuration wizard asks at login
        ConfigWizardItem.write(
            ConfigWizardItem.search([('state', '=', 'open')]),
            {'state': 'done'})
        with transaction.set_context(
                company=company.id, companies=[company.id],
                _skip_warnings=True):
            integrations = Integration.search(
                [('name', '=', INTEGRATION_NAME)])
            if integrations:
                integration, = integrations
            else:
                integration = Integration(
                    name=INTEGRATION_NAME, company=company,
                    connector='omie')
            integration.omie_app_key = Sandbox.DEFAULT_APP_KEY
            integration.omie_app_secret = Sandbox.DEFAULT_APP_SECRET
            integration.omie_base_url = sandbox_url
            integration.save()
            if integration.status == 'draft':
                Integration.enable([integration])
            set_up_channel(integration)
        transaction.commit()
        print_integration(integration)
        return integration.id


def set_up_channel(integration):
    """The finance team hears of the integration's incidents by email"""
    from trytond.pool import Pool

    Channel = Pool().get('integration.notification.channel')
    if not Channel.search([('name', '=', CHANNEL_NAME)]):
        Channel(name=CHANNEL_NAME, kind='email', integrations=[integration],
            addresses=CHANNEL_ADDRESS).save()


def add_result_accounts(company):
    """Add the revenue and expense accounts of a Brazilian retailer's chart
    (plano de contas) next to those of the generic chart"""
    import csv
    import os

    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool()
    Account = pool.get('account.account')
    path = os.path.join(
        os.path.dirname(__file__), 'data', 'plano_de_contas_demo.csv')
    with Transaction().set_context(company=company.id):
        templates = {
            'revenue': Account.search([
                    ('company', '=', company.id),
                    ('type.revenue', '=', True),
                    ], limit=1)[0],
            'expense': Account.search([
                    ('company', '=', company.id),
                    ('type.expense', '=', True),
                    ], limit=1)[0],
            }
        with open(path, encoding='utf-8') as file:
            accounts = [
                Account(
                    company=company, code=row['code'], name=row['name'],
                    type=templates[row['kind']].type,
                    parent=templates[row['kind']].parent)
                for row in csv.DictReader(file)]
        Account.save(accounts)


def print_integration(integration):
    print("\nIntegration %r" % integration.name)
    for label, value in [
            ("Company", integration.company.rec_name),
            ("Connector", integration.connector),
            ("Status", integration.status),
            ("Schedule", integration.schedule),
            ("Direction", integration.direction),
            ("Initial import date", integration.initial_date),
            ("Omie URL", integration.omie_base_url),
            ("Next sync (UTC)", integration.next_sync),
            ]:
        print("  %-20s %s" % (label, value))


def test_connection(database, integration_id):
    from trytond.exceptions import UserError
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0) as transaction:
        Integration = Pool().get('integration.integration')
        integration = Integration(integration_id)
        with transaction.set_context(company=integration.company.id):
            try:
                message = integration.connector_test_connection()
            except UserError as error:
                print("\nTest connection failed: %s" % error.message)
                return False
        print("\nTest connection: %s" % message)
        return True


def map_categories(database, integration_id, threshold=85):
    """Suggest an account for each Omie category and accept the confident
    suggestions, as a user would in the Category mapping tab; one of them
    the user confirms with a wrong account by mistake, corrected at the end
    Return whether titles wait on the confirmed mappings and the mistake:
    (mapping id, right account id) or None"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        Integration = pool.get('integration.integration')
        Mapping = pool.get('integration.mapping')
        integration = Integration(integration_id)
        with transaction.set_context(company=integration.company.id):
            Integration.suggest_mappings([integration])
            suggested = Mapping.search([
                    ('integration', '=', integration_id),
                    ('state', '=', 'suggested'),
                    ], order=[('score', 'DESC')])
            confident = [m for m in suggested if m.score >= threshold]
            released = sum(m.pending_count or 0 for m in confident)
            print("\nCategory mapping: %d suggestions, %d at %d%% or more "
                "accepted, releasing %d pending titles" % (
                    len(suggested), len(confident), threshold, released))
            for mapping in suggested[:8]:
                print("  %-40s → %-32s %3.0f%%  %s" % (
                        mapping.rec_name[:40], mapping.target.rec_name[:32],
                        mapping.score, mapping.reason or ''))
            mistake = confirm_by_mistake(confident)
            Mapping.confirm(confident)
            unmapped = Mapping.search_count([
                    ('integration', '=', integration_id),
                    ('state', '!=', 'confirmed'),
                    ])
            if unmapped:
                print("  %d categories stay for the user to map; their "
                    "titles wait, pending" % unmapped)
        transaction.commit()
        return bool(confident), mistake


def confirm_by_mistake(mappings):
    """Put a wrong account on one of the mappings about to be confirmed, as
    a user picking the line next to the right one in the chart would: on
    the category of fewest titles waiting (two at least), so that few
    invoices need the correction
    Return (mapping id, right account id) or None"""
    from collections import Counter

    from trytond.pool import Pool

    pool = Pool()
    Account = pool.get('account.account')
    Error = pool.get('integration.sync.error')
    codes = {m.external_code for m in mappings}
    titles = Counter(e.detail for e in Error.search([
                ('kind', '=', 'category_not_mapped'),
                ('resolved', '=', False),
                ('entity', 'in', ['payable', 'receivable']),
                ('detail', 'in', list(codes)),
                ]))
    mappings = sorted(
        (m for m in mappings if titles[m.external_code] and m.target
            and m.target.__name__ == 'account.account'),
        key=lambda m: (
            titles[m.external_code] < 2, titles[m.external_code],
            m.external_code))
    for mapping in mappings:
        right = mapping.target
        domain = [
            ('company', '=', right.company.id),
            ('type', '=', right.type.id),
            ('closed', '!=', True),
            ('id', '!=', right.id),
            ]
        wrong = (Account.search(domain + [('code', '<', right.code)],
                order=[('code', 'DESC')], limit=1)
            or Account.search(domain + [('code', '>', right.code)],
                order=[('code', 'ASC')], limit=1))
        if not wrong:
            continue
        mapping.target, = wrong
        mapping.save()
        print("  By mistake, the user confirms %s with %s, the line above "
            "the suggested %s:\n  its %d titles are posted on the wrong "
            "account until the user corrects the mapping, at the end" % (
                mapping.rec_name, wrong[0].rec_name, right.rec_name,
                titles[mapping.external_code]))
        return mapping.id, right.id


def synchronise(database, integration_id, title, trigger='manual'):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    print("\n%s…" % title)
    with Transaction().start(database, 0) as transaction:
        Integration = Pool().get('integration.integration')
        integration = Integration(integration_id)
        with transaction.set_context(
                company=integration.company.id, _skip_warnings=True):
            Integration.run_sync([integration], trigger)
    with Transaction().start(database, 0, readonly=True):
        Integration = Pool().get('integration.integration')
        integration = Integration(integration_id)
        run = integration.runs[0]
        print_run(run)
        print("  Integration status: %s" % integration.status)
        return run.state != 'failed'


def print_run(run):
    print("  %s run %s in %.1f s, %d Omie calls" % (
            run.trigger, run.state, run.duration.total_seconds(),
            run.remote_calls or 0))
    if run.message:
        print("  %s" % run.message)
    if run.counters:
        print("  %-24s %8s %8s %9s %8s %7s %9s %9s" % (
                "entity", "created", "updated", "unchanged", "skipped",
                "failed", "exported", "conflicts"))
        for counter in run.counters:
            print("  %-24s %8d %8d %9d %8d %7d %9d %9d" % (
                    counter.entity_name, counter.created, counter.updated,
                    counter.unchanged, counter.skipped, counter.failed,
                    counter.exported, counter.conflicts))
    errors = run.errors
    if errors:
        print("  %d error(s) in this run, pending and retried at the next "
            "run:" % len(errors))
        for error in errors[:10]:
            print("   - [%s] %s %s: %s" % (
                    error.kind, error.entity, error.external_id or '',
                    error.message.splitlines()[0]))
            if error.suggested_fix:
                print("     fix: %s" % error.suggested_fix.splitlines()[0])
        if len(errors) > 10:
            print("   … and %d more (Integrations > Sync Errors)"
                % (len(errors) - 10))


def recategorise(database, integration_id, mistake):
    """Correct the mapping confirmed by mistake to its right account, as the
    user would, and run the re-categorisation it queues: the invoices posted
    on the wrong account are cancelled and replaced on the right one; a run
    of the demo that finds it done prints its report again
    Return whether it is done"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    with Transaction().start(database, 0) as transaction:
        # the tasks are the thread's, those queued before too
        queued = set(transaction.tasks)
        pool = Pool()
        Account = pool.get('account.account')
        Change = pool.get('integration.mapping.change')
        Mapping = pool.get('integration.mapping')
        changes = Change.search([('integration', '=', integration_id)])
        if changes:
            print("\nRe-categorisation (done by an earlier run)")
            print_change(changes[0])
            return changes[0].state == 'done'
        if not mistake:
            return True
        mapping_id, right_id = mistake
        mapping, right = Mapping(mapping_id), Account(right_id)
        print("\nRe-categorisation: the user finds the titles of %s on %s\n"
            "  and corrects the mapping to %s:\n"
            "  each invoice posted on the wrong account is cancelled and "
            "replaced by one on the right account…" % (
                mapping.rec_name, mapping.target.rec_name, right.rec_name))
        mapping.target = right
        mapping.save()
        tasks = [t for t in transaction.tasks if t not in queued]
        transaction.commit()
    # as Tryton runs the queued tasks after the commit, without a worker
    for task_id in tasks:
        run_task(database, task_id)
    with Transaction().start(database, 0, readonly=True):
        Change = Pool().get('integration.mapping.change')
        change, = Change.search([('integration', '=', integration_id)])
        print_change(change)
        return change.state == 'done'


def print_change(change):
    def account(target):
        return (target.code or target.rec_name) if target else '-'
    print("  %s: %d draft invoice(s) updated, %d posted invoice(s) "
        "cancelled and replaced (Integrations > Re-categorisations)" % (
            change.state, change.updated_count, change.replaced_count))
    if change.message:
        print("  %s" % change.message)
    for line in change.lines[:5]:
        print("   - %-20s %10s  %s → %s  %s" % (
                (line.document.reference or line.document.rec_name)[:20],
                line.amount, account(line.old_target),
                account(line.new_target),
                "replaced by invoice %d (%s)" % (
                    line.correction.id, line.correction.state)
                if line.correction else line.method))
    if len(change.lines) > 5:
        print("   … and %d more" % (len(change.lines) - 5))


def import_start(database, integration_id):
    "The first day the integration imports titles of"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database, 0, readonly=True):
        Integration = Pool().get('integration.integration')
        return Integration(integration_id).import_from_date


def change_sandbox(sandbox_url, count, since):
    """Change records in the sandbox as users in Omie would: rename some
    clients, note a renegotiation on some payables, cancel a receivable;
    the titles are among those the integration imports (issued since)"""
    from novagestao_omie.omie import OmieClient
    from novagestao_omie.omie.sandbox import Sandbox

    client = OmieClient(
        Sandbox.DEFAULT_APP_KEY, Sandbox.DEFAULT_APP_SECRET,
        base_url=sandbox_url)
    parties = client.call(
        'ListarClientes', pagina=1, registros_por_pagina=count)[
        'clientes_cadastro']
    since = since.strftime('%d/%m/%Y')
    payables = client.call(
        'ListarContasPagar', pagina=1, registros_por_pagina=count,
        filtrar_por_status='AVENCER', filtrar_por_emissao_de=since)[
        'conta_pagar_cadastro']
    receivables = client.call(
        'ListarContasReceber', pagina=1, registros_por_pagina=1,
        filtrar_por_status='AVENCER', filtrar_por_emissao_de=since)[
        'conta_receber_cadastro']
    client.close()
    # Omie stamps changes to the second: make them newer than the last sync
    time.sleep(1)
    changes = []
    for party in parties[:max(1, count // 3)]:
        changes.append(('party', party['codigo_cliente_omie'], {
                    'razao_social': party['razao_social'] + ' (alterado)'}))
    for payable in payables[:max(1, count // 3)]:
        changes.append(('payable', payable['codigo_lancamento_omie'], {
                    'observacao': 'Vencimento renegociado'}))
    for receivable in receivables:
        changes.append(('receivable', receivable['codigo_lancamento_omie'], {
                    'status_titulo': 'CANCELADO'}))
    for entity, omie_id, values in changes:
        sandbox_changes.change(sandbox_url, entity, omie_id, values)
    return len(changes)


def notify(database, integration_id, mailbox):
    """Run the notification tasks the incidents queued, as the queue worker
    would, and print the emails the local SMTP server received; a run of
    the demo that finds them sent before prints what was sent
    Return whether every notification was sent"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    from novagestao_integrations_base.notification_delivery import QUEUE

    with Transaction().start(database, 0, readonly=True):
        pool = Pool()
        Queue = pool.get('ir.queue')
        Incident = pool.get('integration.incident')
        tasks = [t.id for t in Queue.search([
                    ('name', '=', QUEUE),
                    ('dequeued_at', '=', None),
                    ], order=[('id', 'ASC')])]
        incidents = Incident.search([
                ('integration', '=', integration_id),
                ('state', '=', 'open'),
                ])
        if not incidents:
            print("\nNo incident open: no email to send.")
            return True
        print("\nIncidents open in Integrations › Incidents:")
        for incident in incidents:
            print("  %s, since %s: %s" % (incident.cause_string,
                    incident.since, incident.message.splitlines()[0]))
    # as the queue worker of a served Tryton runs them
    for task_id in tasks:
        run_task(database, task_id)
    received = sorted(os.listdir(mailbox)) if os.path.isdir(mailbox) else []
    received = [n for n in received if n.endswith('.eml')]
    if received:
        print("\nThe channel \"%s\" sent %d email(s); the local SMTP server "
            "received:" % (CHANNEL_NAME, len(received)))
        for name in received:
            with open(os.path.join(mailbox, name), 'rb') as file:
                print_email(file.read())
    with Transaction().start(database, 0, readonly=True):
        Delivery = Pool().get('integration.notification.delivery')
        deliveries = Delivery.search([
                ('incident.integration', '=', integration_id),
                ('channel.name', '=', CHANNEL_NAME),
                ], order=[('queued_at', 'DESC'), ('id', 'DESC')])
        failed = [d for d in deliveries if d.state != 'sent']
        for delivery in failed:
            print("  Not sent (%s): %s" % (delivery.error, delivery.subject))
        if not received and deliveries:
            delivery = deliveries[0]
            print("\nThe channel \"%s\" was told of the incidents by an "
                "earlier run of the demo (Integrations › Configuration › "
                "Notification Log), the latest:" % CHANNEL_NAME)
            print("  Subject: %s" % delivery.subject)
            for line in (delivery.body or '').splitlines():
                print("  | %s" % line)
        return not failed


def print_email(data):
    "Print the email as its reader sees it: headers and decoded text"
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.default).parsebytes(data)
    print("  From: %s" % message['From'])
    print("  To: %s" % message['To'])
    print("  Subject: %s" % message['Subject'])
    body = message.get_body(preferencelist=('plain',))
    for line in (body.get_content() if body else '').rstrip().splitlines():
        print("  | %s" % line)


if __name__ == '__main__':
    sys.exit(main())
