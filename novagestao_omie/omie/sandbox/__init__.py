"""A local emulator of the Omie ERP JSON API (no trytond here).

    from novagestao_omie.omie.sandbox import Sandbox, SandboxSettings, \
        generate_dataset
    sandbox = Sandbox(generate_dataset(seed=1))
    server = sandbox.serve()          # server.url == 'http://127.0.0.1:PORT'
"""
from .dataset import Dataset, generate_dataset
from .faults import OmieFault
from .rules import SandboxSettings
from .server import Sandbox

__all__ = ['Sandbox', 'SandboxSettings', 'generate_dataset', 'Dataset',
    'OmieFault']
