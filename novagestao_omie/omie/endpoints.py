"""Where each Omie call lives and how its lists are paginated.

Omie serves every method of a resource from one URL; only the ``call`` in the
body changes.  List calls come in two pagination dialects (snake and
hungarian) and name their array differently, so the client needs this table
to walk any list without per-call code.
"""
from dataclasses import dataclass

SNAKE = 'snake'          # pagina / registros_por_pagina -> total_de_paginas
HUNGARIAN = 'hungarian'  # nPagina / nRegPorPagina -> nTotPaginas
UNPAGED = 'none'         # one response holds everything (ListarExtrato)

READ = 'read'    # safe to retry and to cache
WRITE = 'write'  # retried only when Omie certainly did not run it

# Request and response keys of each dialect:
# (page param, page size param, total pages key, total records key)
PAGING_KEYS = {
    SNAKE: ('pagina', 'registros_por_pagina', 'total_de_paginas',
        'total_de_registros'),
    HUNGARIAN: ('nPagina', 'nRegPorPagina', 'nTotPaginas', 'nTotRegistros'),
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str                    # relative to <base>/api/v1/, trailing slash
    list_key: str | None = None  # the array holding the records of a list
    dialect: str = UNPAGED
    kind: str = READ

    @property
    def paginated(self):
        return self.dialect in PAGING_KEYS


def _family(path, reads=(), writes=(), lists=()):
    "Build the entries of one resource: lists are (call, list key, dialect)"
    table = {}
    for call, list_key, dialect in lists:
        table[call] = Endpoint(path, list_key, dialect, READ)
    for call in reads:
        table[call] = Endpoint(path, None, UNPAGED, READ)
    for call in writes:
        table[call] = Endpoint(path, None, UNPAGED, WRITE)
    return table


ENDPOINTS = {
    **_family('geral/empresas/',
        lists=[('ListarEmpresas', 'empresas_cadastro', SNAKE)],
        reads=['ConsultarEmpresa']),
    **_family('geral/clientes/',
        lists=[
            ('ListarClientes', 'clientes_cadastro', SNAKE),
            ('ListarClientesResumido', 'clientes_cadastro_resumido', SNAKE),
            ],
        reads=['ConsultarCliente'],
        writes=['IncluirCliente', 'AlterarCliente', 'UpsertCliente',
            'UpsertClienteCpfCnpj', 'ExcluirCliente', 'AssociarCodIntCliente',
            'IncluirClientesPorLote', 'UpsertClientesPorLote']),
    **_family('geral/clientetag/',
        reads=['ListarTags'],
        writes=['IncluirTags', 'ExcluirTags', 'ExcluirTodas']),
    **_family('geral/categorias/',
        lists=[('ListarCategorias', 'categoria_cadastro', SNAKE)],
        reads=['ConsultarCategoria'],
        writes=['IncluirCategoria', 'AlterarCategoria',
            'IncluirGrupoCategoria', 'AlterarGrupoCategoria']),
    **_family('geral/contacorrente/',
        lists=[
            # The array is literally named after the method.
            ('ListarContasCorrentes', 'ListarContasCorrentes', SNAKE),
            ('ListarResumoContasCorrentes', 'conta_corrente_lista', SNAKE),
            ],
        reads=['ConsultarContaCorrente', 'PesquisarContaCorrente'],
        writes=['IncluirContaCorrente', 'AlterarContaCorrente',
            'UpsertContaCorrente', 'UpsertContaCorrentePorLote',
            'ExcluirContaCorrente']),
    **_family('financas/contapagar/',
        lists=[('ListarContasPagar', 'conta_pagar_cadastro', SNAKE)],
        reads=['ConsultarContaPagar'],
        writes=['IncluirContaPagar', 'AlterarContaPagar', 'UpsertContaPagar',
            'ExcluirContaPagar', 'LancarPagamento', 'CancelarPagamento',
            'IncluirContaPagarPorLote', 'UpsertContaPagarPorLote']),
    **_family('financas/contareceber/',
        lists=[('ListarContasReceber', 'conta_receber_cadastro', SNAKE)],
        reads=['ConsultarContaReceber'],
        writes=['IncluirContaReceber', 'AlterarContaReceber',
            'UpsertContaReceber', 'ExcluirContaReceber',
            'CancelarContaReceber', 'LancarRecebimento',
            'CancelarRecebimento', 'ConciliarRecebimento',
            'DesconciliarRecebimento', 'IncluirContaReceberPorLote',
            'UpsertContaReceberPorLote', 'IncluirDistribuicaoDepartamento',
            'AlterarDistribuicaoDepartamento',
            'ExcluirDistribuicaoDepartamento']),
    **_family('financas/extrato/',
        lists=[('ListarExtrato', 'listaMovimentos', UNPAGED)]),
    **_family('financas/mf/',
        lists=[('ListarMovimentos', 'movimentos', HUNGARIAN)]),
    **_family('financas/contacorrentelancamentos/',
        lists=[('ListarLancCC', 'listaLancamentos', HUNGARIAN)],
        # Omie spells this one "Consulta", not "Consultar".
        reads=['ConsultaLancCC'],
        writes=['IncluirLancCC', 'AlterarLancCC', 'ExcluirLancCC']),
    **_family('financas/pesquisartitulos/',
        lists=[('PesquisarLancamentos', 'titulosEncontrados', HUNGARIAN)]),
    **_family('produtos/nfconsultar/',
        lists=[('ListarNF', 'nfCadastro', SNAKE)],
        reads=['ConsultarNF']),
    }

# Calls whose name exists on more than one path: the table above is keyed by
# call, so the other homes are found by (path, call) when the caller passes
# an explicit path.
ENDPOINTS_BY_PATH = {(e.path, call): e for call, e in ENDPOINTS.items()}

_READ_PREFIXES = ('Listar', 'Consultar', 'Consulta', 'Pesquisar', 'Obter')


def normalise_path(path):
    "Return path relative to /api/v1/ with exactly one trailing slash"
    path = path.strip().strip('/')
    if path.startswith('api/v1/'):
        path = path[len('api/v1/'):]
    return path + '/'


def guess_kind(call):
    "Unknown calls are writes unless their name says they only read"
    return READ if call.startswith(_READ_PREFIXES) else WRITE


def endpoint_for(call, path=None):
    """Return the Endpoint of call, optionally on an explicit path.

    An explicit path wins over the table (e.g. ListarMovimentos of
    estoque/movestoque/ instead of financas/mf/); an unknown call needs one.
    """
    if path is None:
        try:
            return ENDPOINTS[call]
        except KeyError:
            raise ValueError(
                f"Unknown Omie call {call!r}: pass path='modulo/servico/'"
                ) from None
    path = normalise_path(path)
    known = ENDPOINTS_BY_PATH.get((path, call))
    if known is not None:
        return known
    # Same call name on another resource: its list key and dialect are
    # unknown, the client detects them from the response.
    return Endpoint(path, None, None, guess_kind(call))
