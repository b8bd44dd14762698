# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from novagestao_integrations_base.exceptions import (
    IntegrationError, IntegrationWarning)


class OmieConnectionError(IntegrationError):
    pass


class OmieCredentialWarning(IntegrationWarning):
    pass
