# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Notification channels: who hears of an incident, and how

A channel subscribes to integrations and causes; the incidents it hears of
become deliveries (notification_delivery.py), sent by queue tasks so that a
channel that is down never slows or breaks a sync."""
import urllib.parse
from email.message import EmailMessage
from email.utils import formataddr

import requests

from trytond.config import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.sendmail import sendmail

from .incident import CAUSES
from .secret import SecretFieldsMixin

# seconds a channel may take to answer: a task waits no longer
TIMEOUT = 10
TWILIO_BASE_URL = 'https://api.twilio.com'
# an SMS is read on a phone: the first lines say it all
SMS_LENGTH = 320


class ChannelError(Exception):
    "A channel refused or failed a message (its text never holds a secret)"


def post(url, expected, **kwargs):
    """POST to url (requests' keyword arguments) and return the answer's
    body; raise ChannelError naming the status only (the url may be the
    secret itself)"""
    try:
        response = requests.post(url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise ChannelError(
            'connection failed (%s)' % type(error).__name__) from None
    if response.status_code not in expected:
        raise ChannelError('HTTP %s' % response.status_code)
    return response.content


class TwilioProvider:
    """Twilio's Messages API: POST /2010-04-01/Accounts/{AccountSid}/
    Messages.json, form-encoded To, From and Body, HTTP basic auth"""

    def __init__(self, base_url, account_sid, auth_token, sender):
        self.base_url = (base_url or TWILIO_BASE_URL).rstrip('/')
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender

    def send(self, to, body):
        url = '%s/2010-04-01/Accounts/%s/Messages.json' % (
            self.base_url, urllib.parse.quote(self.account_sid, safe=''))
        post(url, {200, 201},
            data={'To': to, 'From': self.sender, 'Body': body},
            auth=(self.account_sid, self.auth_token))


SMS_PROVIDERS = {'twilio': TwilioProvider}


class Channel(SecretFieldsMixin, ModelSQL, ModelView):
    "Notification Channel"
    __name__ = 'integration.notification.channel'

    name = fields.Char("Name", required=True)
    kind = fields.Selection([
            ('email', "Email"),
            ('slack', "Slack"),
            ('sms', "SMS"),
            ('tryton', "Tryton Notification"),
            ], "Kind", required=True, sort=False)
    active = fields.Boolean("Active")
    integrations = fields.Many2Many(
        'integration.notification.channel-integration.integration',
        'channel', 'integration', "Integrations",
        help="Leave empty for every integration.")
    causes = fields.MultiSelection(
        CAUSES, "Causes", sort=False,
        help="Leave empty for every cause.")
    users = fields.Many2Many(
        'integration.notification.channel-res.user', 'channel', 'user',
        "Users",
        states={
            'invisible': ~Eval('kind').in_(['email', 'tryton']),
            },
        help="The users to tell (an email goes to their email address).")
    addresses = fields.Text(
        "Addresses",
        states={
            'invisible': ~Eval('kind').in_(['email', 'sms']),
            },
        help="One email address or phone number (+5511…) a line.")
    secret = fields.Char(
        "Secret", strip=False,
        states={
            'invisible': ~Eval('kind').in_(['slack', 'sms']),
            'required': Eval('kind').in_(['slack', 'sms']),
            },
        help="The Slack incoming webhook address, or the SMS provider's "
        "auth token. It is never shown again once saved.")
    sms_provider = fields.Selection([
            (None, ""),
            ('twilio', "Twilio"),
            ], "SMS Provider",
        states={
            'invisible': Eval('kind') != 'sms',
            'required': Eval('kind') == 'sms',
            })
    sms_account = fields.Char(
        "SMS Account", strip=False,
        states={
            'invisible': Eval('kind') != 'sms',
            'required': Eval('kind') == 'sms',
            },
        help="Twilio's Account SID.")
    sms_sender = fields.Char(
        "SMS Sender",
        states={
            'invisible': Eval('kind') != 'sms',
            'required': Eval('kind') == 'sms',
            },
        help="The number the messages come from.")
    sms_base_url = fields.Char(
        "SMS API Address",
        states={
            'invisible': Eval('kind') != 'sms',
            })
    reminder_hours = fields.Integer(
        "Reminder (hours)",
        domain=['OR',
            ('reminder_hours', '=', None),
            ('reminder_hours', '>', 0),
            ],
        help="Tell again after these hours while the incident is open.\n"
        "Leave empty for no reminder.")
    deliveries = fields.One2Many(
        'integration.notification.delivery', 'channel', "Deliveries",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._secret_fields = {'secret'}
        cls._buttons.update({
                'send_test': {},
                })

    @classmethod
    def default_active(cls):
        return True

    @classmethod
    def default_kind(cls):
        return 'tryton'

    @classmethod
    def default_sms_provider(cls):
        return None

    @classmethod
    def default_sms_base_url(cls):
        return TWILIO_BASE_URL

    @classmethod
    def default_reminder_hours(cls):
        return 24

    def subscribes(self, incident):
        "Tell whether the channel hears of the incident"
        return (self.active
            and (not self.integrations
                or incident.integration in self.integrations)
            and (not self.causes or incident.cause in self.causes))

    @property
    def address_list(self):
        return [a.strip() for a in (self.addresses or '').splitlines()
            if a.strip()]

    def redact(self, text):
        "The text without the channel's secret, as errors are recorded"
        text = str(text)
        for secret in filter(None, [self.secret, self.sms_account]):
            text = text.replace(secret, '***')
        return text

    def send(self, subject, body, link=None, record=None):
        """Send the message now; raise ChannelError on failure
        record is what an in-app notification opens"""
        getattr(self, '_send_%s' % self.kind)(subject, body, link, record)

    def _send_email(self, subject, body, link, record):
        recipients = [u.email for u in self.users if u.email] + [
            a for a in self.address_list if '@' in a]
        if not recipients:
            raise ChannelError('no recipient')
        sender = config.get('email', 'from')
        message = EmailMessage()
        message['From'] = formataddr(("Tryton", sender))
        message['To'] = ', '.join(recipients)
        message['Subject'] = subject
        message.set_content('\n'.join(filter(None, [body, link])))
        try:
            sendmail(sender, recipients, message, strict=True)
        except Exception as error:
            raise ChannelError(
                'email not sent (%s)' % type(error).__name__) from None

    def _send_slack(self, subject, body, link, record):
        text = '*%s*\n%s' % (subject, body)
        if link:
            text += '\n<%s|%s>' % (link, gettext(
                    'novagestao_integrations_base.msg_notification_open'))
        post(self.secret, {200}, json={
                'text': text,
                'blocks': [{
                        'type': 'section',
                        'text': {'type': 'mrkdwn', 'text': text},
                        }],
                })

    def _send_sms(self, subject, body, link, record):
        provider = SMS_PROVIDERS[self.sms_provider](
            self.sms_base_url, self.sms_account, self.secret,
            self.sms_sender)
        numbers = [a for a in self.address_list if '@' not in a]
        if not numbers:
            raise ChannelError('no recipient')
        text = ('%s\n%s' % (subject, body))[:SMS_LENGTH]
        for number in numbers:
            provider.send(number, text)

    def _send_tryton(self, subject, body, link, record):
        if not self.users:
            raise ChannelError('no recipient')
        record = record or self
        # a notification's description is one line
        description = ' '.join((body or '').split())
        for user in self.users:
            record.__class__.notify_user(
                [record], 'tryton-warning', subject, description,
                user=user.id)

    @classmethod
    @ModelView.button
    def send_test(cls, channels):
        """Send a test message on each channel at once, as a person waits
        for it; a failure says why, without the secret"""
        pool = Pool()
        Delivery = pool.get('integration.notification.delivery')
        for channel in channels:
            channel = cls(channel.id)
            delivery = Delivery.prepare(channel, None, 'test')
            delivery.save()
            Delivery.deliver([delivery])
            if delivery.state != 'sent':
                raise UserError(gettext(
                        'novagestao_integrations_base.msg_channel_test_failed',
                        channel=channel.rec_name, error=delivery.error))


class ChannelIntegration(ModelSQL):
    "Notification Channel - Integration"
    __name__ = 'integration.notification.channel-integration.integration'
    channel = fields.Many2One(
        'integration.notification.channel', "Channel", required=True,
        ondelete='CASCADE')
    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE')


class ChannelUser(ModelSQL):
    "Notification Channel - User"
    __name__ = 'integration.notification.channel-res.user'
    channel = fields.Many2One(
        'integration.notification.channel', "Channel", required=True,
        ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')
