"""Response shapes: the full key set Omie sends for each record.

Stored records keep only what carries information; these templates add the
keys Omie always sends with empty/zero values, in Omie's order, so every
response is complete.  Templates are copied per response (never mutated).
"""
import copy

_TAXES = {}
for _tax in ('pis', 'cofins', 'csll', 'ir', 'iss', 'inss'):
    _TAXES['valor_' + _tax] = 0.0
    _TAXES['retem_' + _tax] = 'N'

_TITLE_HEAD = {
    'codigo_lancamento_omie': 0,
    'codigo_lancamento_integracao': '',
    'codigo_cliente_fornecedor': 0,
    'codigo_cliente_fornecedor_integracao': '',
    'data_vencimento': '',
    'data_previsao': '',
    'data_emissao': '',
    'valor_documento': 0.0,
    'valor_pag': 0.0,
    'codigo_categoria': '',
    'categorias': [],
    'id_conta_corrente': 0,
    'numero_documento': '',
    'numero_documento_fiscal': '',
    'numero_parcela': '001/001',
    'codigo_tipo_documento': '',
    'codigo_projeto': 0,
    'codigo_vendedor': 0,
    'chave_nfe': '',
    'observacao': '',
}
_TITLE_TAIL = {
    'distribuicao': [],
    'id_origem': '',
    'operacao': '',
    'status_titulo': '',
    'importado_api': 'N',
    'bloquear_exclusao': 'N',
    'info': {},
}

PAYABLE_TEMPLATE = dict(_TITLE_HEAD, data_entrada='',
    codigo_barras_ficha_compensacao='', **_TAXES, **_TITLE_TAIL)
PAYABLE_TEMPLATE['cnab_integracao_bancaria'] = {
    'codigo_forma_pagamento': '', 'banco_transferencia': '',
    'agencia_transferencia': '', 'conta_corrente_transferencia': '',
    'cpf_cnpj_transferencia': '', 'nome_transferencia': '',
    'finalidade_transferencia': '', 'chave_pix': '',
}

RECEIVABLE_TEMPLATE = dict(_TITLE_HEAD, data_registro='', **_TAXES,
    **_TITLE_TAIL)
RECEIVABLE_TEMPLATE.update({
    'nCodPedido': 0, 'nCodOS': 0, 'cPedidoCliente': '', 'cNumeroContrato': '',
    'boleto': {'cGerado': 'N', 'dDtEmBol': '', 'cNumBoleto': '',
        'cNumBancario': '', 'nPerJuros': 0.0, 'nPerMulta': 0.0},
    'tipo_agrupamento': '', 'bloqueado': 'N', 'bloquear_baixa': 'N',
    'nsu': '', 'codigo_cmc7_cheque': '',
})

PARTY_TEMPLATE = {
    'codigo_cliente_omie': 0, 'codigo_cliente_integracao': '',
    'razao_social': '', 'nome_fantasia': '', 'cnpj_cpf': '',
    'pessoa_fisica': 'N', 'exterior': 'N', 'email': '', 'homepage': '',
    'telefone1_ddd': '', 'telefone1_numero': '', 'telefone2_ddd': '',
    'telefone2_numero': '', 'fax_ddd': '', 'fax_numero': '', 'contato': '',
    'endereco': '', 'endereco_numero': '', 'complemento': '', 'bairro': '',
    'cidade': '', 'cidade_ibge': '', 'estado': '', 'cep': '',
    'codigo_pais': '1058', 'inscricao_estadual': '',
    'inscricao_municipal': '', 'inscricao_suframa': '',
    'optante_simples_nacional': 'N', 'contribuinte': 'N',
    'produtor_rural': 'N', 'inativo': 'N', 'bloquear_faturamento': 'N',
    'bloquear_exclusao': 'N', 'valor_limite_credito': 0.0, 'observacao': '',
    'tags': [],
    'dadosBancarios': {'codigo_banco': '', 'agencia': '',
        'conta_corrente': '', 'doc_titular': '', 'nome_titular': '',
        'transf_padrao': 'N', 'cChavePix': ''},
    'enderecoEntrega': {'entEndereco': '', 'entNumero': '',
        'entComplemento': '', 'entBairro': '', 'entCEP': '', 'entEstado': '',
        'entCidade': '', 'entTelefone': '', 'entCnpjCpf': '',
        'entRazaoSocial': '', 'entIE': '', 'entSepararEndereco': 'N'},
    'recomendacoes': {'numero_parcelas': '', 'codigo_vendedor': 0,
        'email_fatura': '', 'gerar_boletos': 'N', 'codigo_transportadora': 0,
        'tipo_assinante': ''},
    'caracteristicas': [],
    'importado_api': 'N',
    'info': {},
}

# Nested objects a write may send partially: merged key by key.
PARTY_NESTED = ('dadosBancarios', 'enderecoEntrega', 'recomendacoes')

STATUS_LABELS = {
    'AVENCER': 'A vencer', 'ATRASADO': 'Atrasado', 'VENCEHOJE': 'Vence hoje',
    'PAGO': 'Pago', 'RECEBIDO': 'Recebido', 'LIQUIDADO': 'Liquidado',
    'CANCELADO': 'Cancelado', 'PAGTO_PARCIAL': 'Pagamento parcial',
}


def complete(template, record):
    "Template defaults overlaid with the record, nested dicts merged"
    out = dict(template)
    for key, value in record.items():
        default = template.get(key)
        if isinstance(default, dict) and isinstance(value, dict) and default:
            merged = dict(default)
            merged.update(value)
            out[key] = merged
        else:
            out[key] = value
    return out


def deep_copy(value):
    return copy.deepcopy(value)
