# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The address Omie Connect delivers its webhooks to

POST /<database>/novagestao_omie/webhook/<token>: 200 once the delivery is
stored (or was already); 400 when it is malformed, 413 when it is too large,
415 when it is not JSON in UTF-8, each recorded as rejected; 403 when the
token or the App Key is not an integration's.  Every answer is JSON."""
import json
import logging
import re
import time

from werkzeug.wrappers import Response

from trytond import backend
from trytond.i18n import gettext
from trytond.model.exceptions import SQLConstraintError
from trytond.protocols.wrappers import (
    allow_null_origin, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

from novagestao_integrations_base.exceptions import WebhookInputError
from novagestao_integrations_base.webhook import safe_text

from .webhook import ROUTE

logger = logging.getLogger(__name__)

# Omie's events are a few kilobytes; a settlement list stays far below this
MAX_BODY = 1024 * 1024
JSON_TYPES = {'application/json', 'text/json'}
UTF8_NAMES = {'utf-8', 'utf8'}
_TOKEN = re.compile(r'(/%s/)[^/?\s\'"]+' % re.escape(ROUTE))


class RedactWebhookToken(logging.Filter):
    "Keep the secret token of webhook addresses out of the request logs"

    def filter(self, record):
        message = record.getMessage()
        if ROUTE in message:
            record.msg = _TOKEN.sub(r'\1***', message)
            record.args = ()
        return True


for _name in ['trytond.wsgi', 'werkzeug']:
    logging.getLogger(_name).addFilter(RedactWebhookToken())


def answer(status, data):
    return Response(
        json.dumps(data, ensure_ascii=False), status=status,
        content_type='application/json; charset=utf-8')


@app.route('/<database_name>/%s/<token>' % ROUTE, methods={'POST'})
@allow_null_origin
def webhook(request, database_name, token):
    arrived = time.monotonic()
    # The body is read here, raw, and never through request.data or
    # parsed_data: trytond's JSON request would decode it leniently, and on
    # any error with_pool asks it for an RPC method and answers an HTML 400
    length = request.content_length
    if length is not None and length > MAX_BODY:
        body = None
    else:
        body = request.stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            body = None
    return _receive(request, database_name, token, body, arrived)


@with_pool
def _receive(request, pool, token, body, arrived=None):
    try:
        for attempt in range(3):
            try:
                return _store(request, pool, token, body, arrived)
            except (backend.DatabaseIntegrityError, SQLConstraintError):
                # The same delivery is being stored by a concurrent
                # request: the next attempt finds it and acknowledges a
                # duplicate.
                if attempt >= 2:
                    raise
    except backend.DatabaseOperationalError:
        logger.warning("webhook delivery not stored", exc_info=True)
        return answer(503, {'status': 'unavailable'})
    except Exception:
        # answered here: trytond's own answer would be HTML
        logger.exception("webhook delivery not stored")
        return answer(500, {'status': 'error'})


@with_transaction(context={'_skip_warnings': True})
def _store(request, pool, token, body, arrived=None):
    Configuration = pool.get('ir.configuration')
    with Transaction().set_context(language=Configuration.get_language()):
        return _answer(request, pool, token, body, arrived)


def check_envelope(request, body):
    """Raise WebhookInputError when the body is too large or not declared
    as JSON in UTF-8"""
    if body is None:
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_too_large',
                limit=MAX_BODY), status=413)
    mimetype = request.mimetype or ''
    if mimetype not in JSON_TYPES and not mimetype.endswith('+json'):
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_bad_content_type',
                content_type=safe_text(mimetype or '-', 100)), status=415)
    charset = request.mimetype_params.get('charset')
    if charset is not None and charset.lower() not in UTF8_NAMES:
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_bad_charset',
                charset=safe_text(charset, 100)), status=415)


def _answer(request, pool, token, body, arrived=None):
    Event = pool.get('integration.webhook.event')
    Integration = pool.get('integration.integration')
    integration = Integration.by_webhook_token(token)
    if integration is None or integration.connector_webhook_route() != ROUTE:
        return answer(403, {'status': 'forbidden'})
    try:
        check_envelope(request, body)
    except WebhookInputError as exception:
        Event.reject(integration, exception.message, body)
        return answer(exception.status, {
                'status': 'rejected', 'error': exception.message})
    try:
        status, data = Event.receive(integration, body, arrived)
    except PermissionError:
        logger.info(
            "webhook for integration %d refused: another App Key",
            integration.id)
        return answer(403, {'status': 'forbidden'})
    return answer(status, data)
