# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Write the Brazilian Portuguese overrides of Tryton's own strings

Tryton 8.0 ships European Portuguese (pt) only.  On the screens our users
reach through ours (statements, invoices, parties, moves, reconciliation,
bank accounts, companies), this reads the installed Tryton modules' pt.po and
lists every string whose pt translation is missing, left in English or in
European wording; BRAZILIAN below holds the reviewed Brazilian text of each.
It writes, per module of ours that may override the Tryton module:

- locale/pt_BR.po: strings not tied to a record (labels, selections, model
  names, view texts, wizard buttons): they become pt_BR translations of ours,
  which Tryton reads before falling back to pt;
- locale/override/pt.po: strings of another module's records (menus,
  actions, buttons, messages, domains): Tryton overrides a record's string
  only in a language that module already translates
  (ir.translation.translation_import looks its row up), and Tryton has no
  pt_BR, so they override its pt rows, which pt_BR falls back to.

Run: ./setup/ptbr-overrides          (writes the files)
     ./setup/ptbr-overrides --check  (fails on a string without review)"""
import argparse
import os
import re
import sys

import polib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = 'novagestao_integrations_base'
OMIE = 'novagestao_omie'

# Tryton module → (module of ours that overrides it, model name prefixes
# of the screens our users reach; None: every model of the module)
SCREENS = {
    'ir': (BASE, ('ir.attachment', 'ir.note', 'ir.action.act_window.domain')),
    'res': (BASE, ('res.user',)),
    'party': (BASE, (
            'party.party', 'party.address', 'party.contact_mechanism',
            'party.identifier', 'party.category')),
    'company': (BASE, ('company.company', 'company.employee')),
    'account': (BASE, (
            'account.move', 'account.reconcile', 'account.account',
            'account.journal')),
    'bank': (OMIE, None),
    'account_invoice': (OMIE, ('account.invoice',)),
    'account_statement': (OMIE, None),
    }
RECORD_MODELS = {
    'ir.ui.menu', 'ir.action', 'ir.action.act_window.domain',
    'ir.model.button', 'ir.message',
    }
# records of the menus, actions and messages of these modules only: the
# others are not reached from our screens
RECORD_MODULES = {
    'account', 'account_statement', 'account_invoice', 'party', 'bank'}
SKIPPED_MODELS = {
    'ir.rule.group', 'res.group', 'ir.sequence', 'ir.sequence.type',
    'ir.model.field.access', 'ir.action.wizard',
    }
EUROPEAN = re.compile(
    r'regist[oa]s?\b|ficheiro|utilizador|guardar|eliminar|morada'
    r'|telem[oó]vel|factur|contribuinte|actual|ac[çt]ão|ecrã|contacto'
    r'|equipa|efectu|selecç|direcç|objecto|activ|exact|correcç|recepç'
    r'|óptim|excepç|Confirmad', re.I)

# Brazilian accounting words for Tryton's pt wording, applied to every
# string of the screens: "valor" is an amount of money, "conciliar" is what a
# Brazilian accountant does to bank and open items, a posted document is
# "lançado"
WORDING = [
    (re.compile(r'\bMontante'), 'Valor'),
    (re.compile(r'\bmontante'), 'valor'),
    (re.compile(r'\bQuantia\b'), 'Valor'),
    (re.compile(r'\bReconcili'), 'Concili'),
    (re.compile(r'\breconcili'), 'concili'),
    (re.compile(r'\bConfirmado\b'), 'Lançado'),
    # Tryton's pt spells it without its accent
    (re.compile(r'\bNumero\b'), 'Número'),
    (re.compile(r'\bnumero\b'), 'número'),
    ]

PLACEHOLDER = re.compile(r'(%\([^)]*\)\w)')

# msgctxt or msgid → reviewed Brazilian text (msgctxt first)
BRAZILIAN = {
    # Records whose pt translation is right but fuzzy: Tryton overrides a
    # record's string only when the value changes (override_translation),
    # so the fuzzy flag would stay and the English show; each gets a
    # wording of its own.
    'model:account.journal,name:journal_statement': "Extrato Bancário",
    'model:ir.message,text:msg_journal_bank_account_unique':
        "Só é permitido um diário por conta bancária.",
    'model:ir.ui.menu,name:menu_payments_configuration':
        "Pagamento de Faturas",
    'model:ir.action,name:act_identifier_form': "Identificadores de Pessoas",
    'model:ir.ui.menu,name:menu_identifier_form':
        "Identificadores de Pessoas",
    # the same text wherever it appears on the screens
    'Amount': "Valor",
    'Amount Second Currency': "Valor na Moeda Secundária",
    'Amount to Pay': "Valor a Pagar",
    'Amount to Pay Today': "Valor a Pagar Hoje",
    'Are you sure you want to post the statement?':
        "Tem certeza de que deseja lançar o extrato?",
    'Attn': "A/C",
    'Cancel': "Cancelar",
    'Code Alphanumeric': "Código Alfanumérico",
    'Code Digit': "Dígitos do Código",
    'Company Currency': "Moeda da Empresa",
    'Customer Payment Reference': "Referência de Pagamento do Cliente",
    'Customer Payment Reference Number':
        "Número de Referência de Pagamento do Cliente",
    'Draft': "Rascunho",
    'E-document': "Documento Eletrônico",
    'Email': "E-mail",
    'Format': "Formato",
    'Import Statement': "Importar Extrato",
    'Instrument': "Instrumento",
    'Invoice Party': "Pessoa da Fatura",
    'Last Amount': "Último Valor",
    'Last Date': "Última Data",
    'Line Groups': "Grupos de Linhas",
    'Move Lines': "Linhas de Lançamento",
    'Moves': "Lançamentos",
    'Notifications to subscribe to.': "Notificações a assinar.",
    'Number Alphanumeric': "Número Alfanumérico",
    'Origin File': "Arquivo de Origem",
    'Origins': "Origens",
    'Party': "Pessoa",
    'Parties': "Pessoas",
    'Party Required': "Pessoa Obrigatória",
    'Party Tax Identifier': "CNPJ/CPF da Pessoa",
    'Payment Amount': "Valor do Pagamento",
    'Payment Means': "Meios de Pagamento",
    'Payment Means Rules': "Regras dos Meios de Pagamento",
    'Payment Reference': "Referência de Pagamento",
    'Payment Reference Type': "Tipo de Referência de Pagamento",
    'Pending Amount': "Valor Pendente",
    'Post': "Lançar",
    'Posted': "Lançado",
    'REST API': "API REST",
    'Reconcile': "Conciliar",
    'Reconcile Statements': "Conciliar Extratos",
    'Related To': "Relacionado a",
    'Source Total': "Total de Origem",
    'Statement': "Extrato",
    'Statement Journals': "Diários de Extrato",
    'Statement Lines': "Linhas do Extrato",
    'Statements': "Extratos",
    'Tax Identifier': "CNPJ/CPF",
    'Tax Identifier:': "CNPJ/CPF:",
    'Template': "Modelo",
    'To Reconcile': "A Conciliar",
    'Total Amount': "Valor Total",
    'Validate': "Validar",
    'Validated': "Validado",
    'Write-Off Amount': "Valor da Baixa",
    'expected': "esperado",
    # the same in Brazil (reviewed)
    'Base': "Base", 'Cache': "Cache", 'Cookie': "Cookie",
    'Divisor': "Divisor", 'Jabber': "Jabber", 'Link': "Link",
    'Manual': "Manual", 'Menu': "Menu", 'Skype': "Skype",
    'Subtotal': "Subtotal", 'Total': "Total",
    'Lock': "Bloquear",
    'Unreconcile Lines': "Desfazer Conciliação de Linhas",
    'Reconciliation Lines': "Linhas de Conciliação",
    'Delegated Amount': "Valor Delegado",
    'Amount Currency': "Moeda do Valor",
    'Open Type': "Abrir Tipo",
    # fuzzy in Tryton's pt, which Tryton does not read
    'Account Statement': "Extrato Bancário",
    'Account Statement Import Start': "Início da Importação de Extrato",
    'Account Statement Line': "Linha de Extrato Bancário",
    'Account Statement Line Group': "Grupo de Linhas do Extrato",
    'Account Statement Origin Information':
        "Informação da Origem do Extrato",
    'Account Invoice Edocument Result':
        "Resultado do Documento Eletrônico da Fatura",
    'Account Invoice Edocument Start':
        "Início do Documento Eletrônico da Fatura",
    'Account Invoice Payment Mean': "Meio de Pagamento da Fatura",
    'Account Invoice Payment Mean Rule':
        "Regra do Meio de Pagamento da Fatura",
    'All': "Todos",
    'Allow move lines of this account to be reconciled.':
        "Permitir que as linhas de lançamento desta conta sejam "
        "conciliadas.",
    'Bank Accounts Used': "Contas Bancárias Usadas",
    'Cancelled': "Cancelado",
    'Close': "Fechar",
    'Code Compact': "Código Compacto",
    'Company': "Empresa",
    'Creditor Reference': "Referência do Credor",
    'Currency': "Moeda",
    'File': "Arquivo",
    'File Name': "Nome do Arquivo",
    'Identifiers': "Identificadores",
    'Information': "Informações",
    'Invoice': "Fatura",
    'Invoice Payments': "Pagamentos de Faturas",
    'Notifications': "Notificações",
    'Number Digit': "Dígitos do Número",
    'Only one journal is allowed per bank account.':
        "Apenas um diário é permitido por conta bancária.",
    'Origin Invoices': "Faturas de Origem",
    'Owners Sequence': "Sequência dos Titulares",
    'Payee': "Beneficiário",
    'Payees': "Beneficiários",
    'Payers': "Pagadores",
    'Post Office Format': "Formato da Agência dos Correios",
    'Private Bag Format': "Formato da Caixa Postal Privada",
    'Render': "Gerar",
    'Source Tax': "Tributos de Origem",
    'Source Untaxed': "Valor sem Tributos de Origem",
    'Use {} as placeholder for the building number.':
        "Use {} no lugar do número do prédio.",
    'Use {} as placeholder for the floor number.':
        "Use {} no lugar do número do andar.",
    'Use {} as placeholder for the post box.':
        "Use {} no lugar da caixa postal.",
    'Use {} as placeholder for the post office.':
        "Use {} no lugar da agência dos correios.",
    'Use {} as placeholder for the private bag.':
        "Use {} no lugar da caixa postal privada.",
    'Use {} as placeholder for the room number.':
        "Use {} no lugar do número da sala.",
    'Use {} as placeholder for the unit number.':
        "Use {} no lugar do número da unidade.",
    # one string
    'model:ir.message,text:msg_invoice_supplier_payment_reference_invalid':
        'O %(type)s "%(reference)s" da fatura "%(invoice)s" não é válido.',
    'model:ir.message,text:msg_delete_line_reconciled':
        'Para excluir a linha conciliada "%(line)s", desfaça antes a '
        'conciliação.',
    'model:ir.message,text:msg_modify_line_reconciled':
        'Para alterar a linha conciliada "%(line)s", desfaça antes a '
        'conciliação.',
    'model:account.statement.journal,string:': "Diário de Extrato",
    'model:account.statement.origin,string:': "Origem do Extrato",
    'help:account.account.context,posted:':
        "Incluir apenas os lançamentos no estado Lançado.",
    'model:ir.message,text:msg_invoice_source_mismatch':
        'O valor de "%(field)s" da fatura "%(invoice)s", %(value)s, deve '
        'ser igual ao valor de origem, %(source)s.',
    'model:ir.message,text:msg_bank_account_currency':
        'A moeda da conta bancária "%(bank_account)s" deve ser a mesma, '
        '"%(currency)s", do diário "%(journal)s".',
    'model:ir.message,text:msg_import_no_journal':
        'Para importar o extrato, crie um único diário de extrato para a '
        'conta "%(account)s".',
    'model:ir.message,text:msg_post_statement_move':
        'Para lançar o lançamento contábil "%(move)s", lance o extrato '
        '"%(statement)s".',
    'model:ir.message,text:msg_statement_delete_cancel':
        'Para excluir o extrato "%(statement)s", cancele-o.',
    'model:ir.message,text:msg_statement_invoice_paid_cancelled':
        "Validar os extratos removerá das linhas dos extratos as faturas "
        "já pagas ou canceladas.",
    'model:ir.message,text:msg_statement_line_delete_cancel_draft':
        'Para excluir a linha "%(line)s", cancele o extrato '
        '"%(statement)s" ou volte-o para rascunho.',
    'model:ir.message,text:msg_statement_line_second_currency_sign':
        "O valor na moeda secundária deve ter o mesmo sinal do valor.",
    'model:ir.message,text:msg_statement_origin_delete_cancel_draft':
        'Para excluir a origem "%(origin)s", cancele o extrato '
        '"%(statement)s" ou volte-o para rascunho.',
    'model:ir.message,text:msg_statement_paid_invoice_draft':
        "Validar os extratos removerá as faturas pagas dos outros extratos "
        "em rascunho.",
    'model:ir.message,text:msg_statement_post_pending_amount':
        'Para lançar o extrato "%(statement)s", crie linhas para o valor '
        'pendente de %(amount)s da origem "%(origin)s".',
    'model:ir.message,text:msg_statement_wrong_end_balance':
        'Para validar o extrato "%(statement)s", altere as linhas para que '
        'o saldo final seja %(end_balance)s em vez de %(amount)s.',
    'model:ir.message,text:msg_statement_wrong_number_of_lines_add':
        'Para validar o extrato "%(statement)s", adicione %(n)s linha(s).',
    'model:ir.message,text:msg_statement_wrong_number_of_lines_remove':
        'Para validar o extrato "%(statement)s", remova %(n)s linha(s).',
    'model:ir.message,text:msg_statement_wrong_total_amount':
        'Para validar o extrato "%(statement)s", altere as linhas para que '
        'o valor total seja %(total_amount)s em vez de %(amount)s.',
    }


def brazilianise(text):
    "The text in Brazilian wording, its %(placeholders)s untouched"
    parts = PLACEHOLDER.split(text)
    for i in range(0, len(parts), 2):
        for pattern, replacement in WORDING:
            parts[i] = pattern.sub(replacement, parts[i])
    return ''.join(parts)


def tryton_modules_dir():
    import trytond.modules
    return os.path.dirname(trytond.modules.__file__)


def tryton_pofile(module):
    if module in {'ir', 'res'}:
        import trytond
        directory = os.path.join(os.path.dirname(trytond.__file__), module)
    else:
        directory = os.path.join(tryton_modules_dir(), module)
    return polib.pofile(os.path.join(directory, 'locale', 'pt.po'))


def candidates():
    "Yield (tryton module, entry, why) of the strings to review"
    for module, (_, prefixes) in SCREENS.items():
        for entry in tryton_pofile(module):
            if entry.obsolete or not entry.msgctxt:
                continue
            ttype, name, res_id = entry.msgctxt.split(':')
            model = name.split(',')[0]
            if model in SKIPPED_MODELS or ttype == 'report':
                continue
            if ttype == 'model' and model in RECORD_MODELS:
                if module not in RECORD_MODULES:
                    continue
            elif prefixes and not model.startswith(prefixes):
                continue
            if not entry.msgstr:
                why = 'missing'
            elif 'fuzzy' in entry.flags:
                # Tryton does not read fuzzy translations
                why = 'fuzzy'
            elif entry.msgstr == entry.msgid and re.search(
                    '[a-z]{3}', entry.msgid):
                why = 'English'
            elif EUROPEAN.search(entry.msgstr):
                why = 'European'
            elif (entry.msgctxt in BRAZILIAN or entry.msgid in BRAZILIAN
                    or brazilianise(entry.msgstr) != entry.msgstr):
                why = 'wording'
            else:
                continue
            yield module, entry, why


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    files = {}
    unreviewed = 0
    for module, entry, why in candidates():
        text = BRAZILIAN.get(entry.msgctxt, BRAZILIAN.get(entry.msgid))
        if text is None and why == 'wording':
            text = brazilianise(entry.msgstr)
        if text is None or EUROPEAN.search(text):
            unreviewed += 1
            print("%-8s %s\n    %r => %r" % (
                    why, entry.msgctxt, entry.msgid, entry.msgstr))
            continue
        if text == entry.msgstr and why != 'fuzzy':
            continue
        ours = SCREENS[module][0]
        ttype, name, res_id = entry.msgctxt.split(':')
        if res_id or (ttype == 'model' and name.split(',')[0]
                in RECORD_MODELS):
            if text == entry.msgstr:
                # the override would not clear the fuzzy flag
                unreviewed += 1
                print("fuzzy    %s\n    %r => %r: give it another wording"
                    % (entry.msgctxt, entry.msgid, entry.msgstr))
                continue
            path = os.path.join(ours, 'locale', 'override', 'pt.po')
            msgctxt = '%s:%s:%s.%s' % (ttype, name, module, res_id)
        else:
            path = os.path.join(ours, 'locale', 'pt_BR.po')
            msgctxt = entry.msgctxt
        if path not in files:
            files[path] = polib.POFile(wrapwidth=78)
            files[path].metadata = {
                'Content-Type': 'text/plain; charset=utf-8'}
        files[path].append(polib.POEntry(
                msgctxt=msgctxt, msgid=entry.msgid, msgstr=text,
                msgid_plural=entry.msgid_plural,
                flags=[f for f in entry.flags if f != 'fuzzy']))
    if unreviewed:
        print("%d string(s) to review: add their Brazilian text to "
            "BRAZILIAN in %s" % (unreviewed, __file__))
        return 1
    for path, pofile in sorted(files.items()):
        pofile.sort(key=lambda e: (e.msgctxt, e.msgid))
        full = os.path.join(ROOT, path)
        if args.check:
            if (not os.path.exists(full)
                    or polib.pofile(full).__unicode__()
                    != pofile.__unicode__()):
                print("%s is not up to date: run ./setup/ptbr-overrides"
                    % path)
                unreviewed += 1
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        pofile.save(full)
        print("%s: %d string(s)" % (path, len(pofile)))
    return 1 if unreviewed else 0


if __name__ == '__main__':
    sys.exit(main())
