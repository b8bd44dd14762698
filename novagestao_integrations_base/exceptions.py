# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.exceptions import UserError, UserWarning


class IntegrationError(UserError):
    pass


class IntegrationWarning(UserWarning):
    pass


class WebhookInputError(ValueError):
    "A webhook delivery that cannot be accepted as it is"

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        # the HTTP status the route answers: 400, 413 or 415
        self.status = status
