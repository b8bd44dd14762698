# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.exceptions import UserError, UserWarning


class IntegrationError(UserError):
    pass


class IntegrationWarning(UserWarning):
    pass
