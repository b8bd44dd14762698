# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""List every entity of a generated Omie dataset through the client's paging

    .venv/bin/python bench/client_listing.py --titles 10000

Prints, per list call, the records read, the Omie calls made, the wall time
and records per second, then the peak memory of the process; fails when a
listing misses a record of the dataset."""
import argparse
import datetime as dt
import resource
import sys
import time

from novagestao_omie.omie import OmieClient
from novagestao_omie.omie.sandbox import Sandbox, SandboxSettings
from novagestao_omie.omie.sandbox import generate_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--titles', type=int, default=10000)
    parser.add_argument('--parties', type=int, default=1000)
    parser.add_argument('--movements', type=int, default=5000)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    dataset = generate_dataset(
        seed=args.seed, parties=args.parties, titles=args.titles,
        movements=args.movements, today=dt.date(2026, 11, 21))
    print("dataset generated in %.1f s: %s" % (
            time.perf_counter() - start, dataset.summary()))
    sandbox = Sandbox(dataset, settings=SandboxSettings())
    server = sandbox.serve(port=0)
    client = OmieClient(
        Sandbox.DEFAULT_APP_KEY, Sandbox.DEFAULT_APP_SECRET,
        base_url=server.url)
    expected = {
        'ListarClientes': len(dataset.parties),
        'ListarCategorias': len(dataset.categories),
        'ListarContasCorrentes': len(dataset.accounts),
        'ListarContasPagar': len(dataset.payables),
        'ListarContasReceber': len(dataset.receivables),
        'ListarLancCC': None,
        'ListarMovimentos': None,
        'ListarNF': len(dataset.invoices),
        }
    failed = False
    print("%-22s %9s %9s %6s %8s %10s" % (
            "call", "records", "expected", "calls", "seconds", "records/s"))
    for call, count in expected.items():
        calls_before = client.calls
        start = time.perf_counter()
        params = {'nRegPorPagina': 500} if call in {
            'ListarLancCC', 'ListarMovimentos'} else {}
        read = sum(1 for _ in client.iterate(call, **params))
        seconds = time.perf_counter() - start
        print("%-22s %9d %9s %6d %8.2f %10.0f" % (
                call, read, count if count is not None else '-',
                client.calls - calls_before, seconds, read / seconds))
        if count is not None and read != count:
            failed = True
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("Omie calls: %d, peak memory %.0f MB (sandbox included)" % (
            client.calls, peak))
    client.close()
    server.shutdown()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
