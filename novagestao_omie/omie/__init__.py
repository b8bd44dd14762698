"""Pure-Python access to Omie ERP's API (no trytond import here).

    from novagestao_omie.omie import OmieClient, errors, records
"""
from . import endpoints, errors, records
from .client import DEFAULT_BASE_URL, OmieClient, Page
from .endpoints import ENDPOINTS, Endpoint, endpoint_for
from .errors import OmieError

__all__ = ['OmieClient', 'OmieError', 'Page', 'ENDPOINTS', 'Endpoint',
    'endpoint_for', 'DEFAULT_BASE_URL', 'endpoints', 'errors', 'records']
