"""Omie faults: ``{"faultstring", "faultcode"}`` bodies plus the
``OmieAPI-Error: <code> - <message>`` header, HTTP 500 unless said otherwise.

Every message that Omie writes in Portuguese is kept in Portuguese here,
word for word where the facts give the wording.
"""


class OmieFault(Exception):
    "A fault the emulator answers with instead of a result"

    def __init__(self, faultcode, faultstring, status=500, counts=True):
        super().__init__(faultstring)
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.status = status
        # False for faults that should not feed the misuse counter (e.g.
        # rate-limit answers: Omie counts the client's errors, not its own).
        self.counts = counts

    def body(self):
        return {'faultstring': self.faultstring, 'faultcode': self.faultcode}

    def header(self):
        "Value of the OmieAPI-Error header"
        code = self.faultcode.rsplit('-', 1)[-1] if \
            self.faultcode.rsplit('-', 1)[-1].isdigit() else \
            self.faultcode.replace('SOAP-ENV:', '')
        message = self.faultstring
        if message.startswith('ERROR: '):
            message = message[len('ERROR: '):]
        return '%s - %s' % (code, message)

    def __repr__(self):
        return 'OmieFault(%r, %r, %r)' % (
            self.faultcode, self.faultstring, self.status)


def client_fault(number, message, status=500):
    return OmieFault('SOAP-ENV:Client-%d' % number, message, status)


def unknown_tag(name, type_name):
    return client_fault(5001,
        'ERROR: Tag [%s] não faz parte da estrutura do tipo complexo [%s]!'
        % (str(name).upper(), type_name))


def empty_page(page):
    return client_fault(5113,
        'ERROR: Não existem registros para a página [%s]!' % page)


def validation(message):
    "Business validation on writes and bad values: Client-102, like Omie"
    return client_fault(102, 'ERROR: ' + message)


def required(tag):
    return validation('A tag [%s] é de preenchimento obrigatório!' % tag)


def bad_date(tag, value):
    return validation('Data inválida [%s] informada na tag [%s]! '
        'Formato esperado: dd/mm/aaaa.' % (value, tag))


def not_found(what, code):
    "Record not found by Omie id: Client-105"
    return client_fault(105,
        'ERROR: %s não cadastrado para o Código [%s] !' % (what, code))


def not_found_integration(what, code):
    "Record not found by integration code: Client-103"
    return client_fault(103,
        'ERROR: %s não cadastrado para o Código de Integração [%s] !'
        % (what, code))


def bad_credentials(status=500):
    return OmieFault('SOAP-ENV:Server',
        'A chave de acesso não está preenchida ou não é válida.', status)


def invalid_json(detail=''):
    message = 'Invalid JSON Object'
    if detail:
        message += ' (JSON request with SyntaxError: %s)' % detail
    return OmieFault('SOAP-ENV:Client-8', message)


def account_not_found():
    return client_fault(101, 'ERROR: Nenhuma conta corrente foi encontrada!')
