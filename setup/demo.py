# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Set up the demo company and Omie integration, then synchronise.

Run by ./setup/demo, which creates the database and starts the sandbox."""
import argparse
import json
import sys
import time
import urllib.request

COMPANY_NAME = "NovaGestão Demo Ltda"
INTEGRATION_NAME = "Omie (sandbox)"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', required=True)
    parser.add_argument('--database', required=True)
    parser.add_argument('--sandbox', required=True, help="the sandbox URL")
    parser.add_argument('--changes', type=int, default=25,
        help="records to change in the sandbox before the incremental sync")
    args = parser.parse_args()

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
    if map_categories(args.database, integration_id):
        ok = synchronise(
            args.database, integration_id,
            "Sync of the titles released by the mappings", 'retry') and ok
    changed = change_sandbox(
        args.sandbox, args.changes, import_start(args.database, integration_id))
    print("\nChanged %d records in Omie (the sandbox)." % changed)
    ok = synchronise(
        args.database, integration_id, "Incremental sync") and ok
    ok = recategorise(args.database, integration_id) and ok
    return 0 if ok else 1


def set_up(database, sandbox_url):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from novagestao_integrations_base.tests.tools import (
        create_brazilian_company, run_committed)
    from novagestao_omie.omie.sandbox import Sandbox

    def create_company():
        pool = Pool()
        Company = pool.get('company.company')
        companies = Company.search([('party.name', '=', COMPANY_NAME)])
        if companies:
            return companies[0].id
        print("Creating the demo company %s (BRL, chart of accounts, "
            "fiscal years, São Paulo time)" % COMPANY_NAME)
        company = create_brazilian_company(COMPANY_NAME)
        add_result_accounts(company)
        return company.id
    company_id = run_committed(database, create_company)

    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        Company = pool.get('company.company')
        Integration = pool.get('integration.integration')
        Lang = pool.get('ir.lang')
        User = pool.get('res.user')
        company = Company(company_id)
        admin, = User.search([('login', '=', 'admin')])
        if company not in admin.companies:
            admin.companies = list(admin.companies) + [company]
        admin.company = company
        # Brazilian finance teams read the client in Portuguese
        portuguese = Lang.search([('code', '=', 'pt')], limit=1)
        if portuguese and not admin.language:
            admin.language = portuguese[0]
        admin.save()
        if portuguese:
            Configuration = pool.get('ir.configuration')
            configuration = Configuration(1)
            configuration.language = 'pt'
            configuration.save()
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
        transaction.commit()
        print_integration(integration)
        return integration.id


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
    suggestions, as a user would in the Category mapping tab
    Return whether titles wait on the confirmed mappings"""
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
            Mapping.confirm(confident)
            unmapped = Mapping.search_count([
                    ('integration', '=', integration_id),
                    ('state', '!=', 'confirmed'),
                    ])
            if unmapped:
                print("  %d categories stay for the user to map; their "
                    "titles wait, pending" % unmapped)
        transaction.commit()
        return bool(confident)


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
        print("  %-24s %8s %8s %9s %8s %7s" % (
                "entity", "created", "updated", "unchanged", "skipped",
                "failed"))
        for counter in run.counters:
            print("  %-24s %8d %8d %9d %8d %7d" % (
                    counter.entity_name, counter.created, counter.updated,
                    counter.unchanged, counter.skipped, counter.failed))
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


def recategorise(database, integration_id):
    """Map the category of most posted titles to another account of the same
    type, as a user would, and run the re-categorisation it queues; a run
    of the demo that finds one done prints its report again
    Return whether it is done"""
    from sql.aggregate import Count

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    with Transaction().start(database, 0) as transaction:
        # the tasks are the thread's, those queued before too
        queued = set(transaction.tasks)
        pool = Pool()
        Account = pool.get('account.account')
        Change = pool.get('integration.mapping.change')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        Mapping = pool.get('integration.mapping')
        changes = Change.search([('integration', '=', integration_id)])
        if changes:
            print("\nRe-categorisation (done by an earlier run)")
            print_change(changes[0])
            return changes[0].state == 'done'
        mappings = {m.external_code: m for m in Mapping.search([
                    ('integration', '=', integration_id),
                    ('state', '=', 'confirmed'),
                    ])}
        line = Line.__table__()
        invoice = Invoice.__table__()
        cursor = transaction.connection.cursor()
        cursor.execute(*line.join(invoice,
                condition=line.invoice == invoice.id
                ).select(line.omie_category, Count(line.id),
                where=line.omie_category.in_(list(mappings) or [''])
                & invoice.state.in_(['posted', 'paid']),
                group_by=[line.omie_category],
                order_by=[Count(line.id).desc, line.omie_category]))
        row = cursor.fetchone()
        if not row:
            return True
        mapping = mappings[row[0]]
        old = mapping.target
        accounts = Account.search([
                ('company', '=', old.company.id),
                ('parent', '=', old.parent.id if old.parent else None),
                ('type', '=', old.type.id),
                ('code', '!=', None),
                ('closed', '!=', True),
                ('id', '!=', old.id),
                ], order=[('code', 'ASC'), ('id', 'ASC')], limit=1)
        if not accounts:
            return True
        print("\nRe-categorisation: %s now maps to %s instead of %s…" % (
                mapping.rec_name, accounts[0].rec_name, old.rec_name))
        mapping.target = accounts[0]
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
        request = urllib.request.Request(
            sandbox_url.rstrip('/') + '/_sandbox/change',
            data=json.dumps({
                    'entity': entity, 'id': omie_id, 'changes': values,
                    }).encode(),
            headers={'Content-Type': 'application/json'}, method='POST')
        with urllib.request.urlopen(request, timeout=30):
            pass
    return len(changes)


if __name__ == '__main__':
    sys.exit(main())
