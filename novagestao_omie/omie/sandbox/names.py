"""Brazilian reference material for the dataset: names, cities, banks, products.

Everything here is plain data; dataset.py draws from it with its own seeded
Random.  IBGE city codes and BACEN country codes are the real ones so that a
client validating them finds nothing odd.
"""

FIRST_NAMES_MALE = [
    'José', 'João', 'Antônio', 'Francisco', 'Carlos', 'Paulo', 'Pedro',
    'Lucas', 'Luiz', 'Marcos', 'Luís', 'Gabriel', 'Rafael', 'Daniel',
    'Marcelo', 'Bruno', 'Eduardo', 'Felipe', 'Raimundo', 'Rodrigo',
    'Sebastião', 'Sérgio', 'Fábio', 'Márcio', 'André', 'Vinícius', 'Otávio',
    'Cássio', 'Joaquim', 'Benedito',
]
FIRST_NAMES_FEMALE = [
    'Maria', 'Ana', 'Francisca', 'Antônia', 'Adriana', 'Juliana', 'Márcia',
    'Fernanda', 'Patrícia', 'Aline', 'Sandra', 'Camila', 'Amanda', 'Bruna',
    'Jéssica', 'Letícia', 'Júlia', 'Luciana', 'Vanessa', 'Mariana',
    'Conceição', 'Cláudia', 'Lúcia', 'Débora', 'Tânia', 'Beatriz', 'Luíza',
    'Vitória', 'Rosângela', 'Inês',
]
MIDDLE_NAMES = [
    'Aparecida', 'de Fátima', 'Pedro', 'Carlos', 'Luiz', 'Henrique',
    'Eduarda', 'Clara', 'Vitória', 'Gabriel', 'Miguel', 'Helena',
]
SURNAMES = [
    'da Silva', 'dos Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira',
    'Alves', 'Pereira', 'Lima', 'Gomes', 'Ribeiro', 'Carvalho', 'Araújo',
    'Gonçalves', 'Nogueira', 'Conceição', 'da Conceição', 'Magalhães',
    'Assunção', 'Brandão', 'Falcão', 'Simões', 'Guimarães', 'Conceição',
    'Damásio', 'Antunes', 'Leão', 'Barbosa', 'Rocha', 'Castro', 'Teixeira',
    'Mendes', 'Cardoso', 'Monteiro', 'Moraes', 'Peçanha', 'Cunha', 'Sá',
    'Tavares', 'Freitas',
]
PLACE_NAMES = [
    'São João', 'Santa Luzia', 'Bom Jesus', 'São Jorge', 'Santo Antônio',
    'Boa Vista', 'Primavera', 'Horizonte', 'Estrela do Sul', 'Vale Verde',
    'Nova Esperança', 'Bela Vista', 'Paraíso', 'Três Irmãos',
    'Sol Nascente', 'Ipê Amarelo', 'Araucária', 'Jequitibá', 'Ouro Branco',
    'Nossa Senhora Aparecida', 'São Cristóvão', 'Santa Efigênia',
    'Pôr do Sol', 'Guarani', 'Itapoã', 'Jacarandá', 'Maracanã', 'Tupã',
]
COMPANY_SUFFIXES = [
    ('Ltda', 55), ('ME', 14), ('EIRELI', 5), ('S.A.', 5), ('EPP', 6),
    ('Ltda - ME', 8), ('Ltda - EPP', 7),
]

# (business label, prefer a place name or a surname, profile)
# Profiles drive tags and which categories the party's titles use.
BUSINESSES = [
    ('Padaria', 'place', 'retail'), ('Supermercado', 'place', 'retail'),
    ('Mercearia', 'surname', 'retail'), ('Farmácia', 'place', 'retail'),
    ('Restaurante', 'place', 'retail'), ('Lanchonete', 'surname', 'retail'),
    ('Açougue', 'surname', 'retail'), ('Hortifrúti', 'place', 'retail'),
    ('Pet Shop', 'place', 'retail'), ('Papelaria', 'place', 'retail'),
    ('Livraria', 'place', 'retail'), ('Calçados', 'surname', 'retail'),
    ('Óticas', 'place', 'retail'), ('Drogaria', 'place', 'retail'),
    ('Clínica Odontológica', 'surname', 'services'),
    ('Academia', 'place', 'services'), ('Escola Infantil', 'place', 'services'),
    ('Oficina Mecânica', 'surname', 'services'),
    ('Construtora', 'surname', 'services'), ('Hotel', 'place', 'services'),
    ('Consultoria Empresarial', 'surname', 'services'),
    ('Laboratório de Análises', 'place', 'services'),
    ('Comércio de Peças', 'surname', 'both'),
    ('Auto Peças', 'surname', 'both'),
    ('Materiais de Construção', 'place', 'both'),
    ('Informática', 'surname', 'both'),
    ('Distribuidora de Alimentos', 'surname', 'goods'),
    ('Distribuidora de Bebidas', 'place', 'goods'),
    ('Indústria de Embalagens', 'place', 'goods'),
    ('Atacadista', 'surname', 'goods'), ('Metalúrgica', 'place', 'goods'),
    ('Confecções', 'surname', 'goods'), ('Laticínios', 'place', 'goods'),
    ('Madeireira', 'place', 'goods'), ('Tintas e Vernizes', 'surname', 'goods'),
    ('Transportes', 'surname', 'carrier'),
    ('Transportadora', 'place', 'carrier'), ('Logística', 'surname', 'carrier'),
    ('Imobiliária', 'surname', 'rent'),
    ('Escritório Contábil', 'surname', 'accounting'),
    ('Telecomunicações', 'place', 'telecom'),
    ('Gráfica', 'place', 'office'),
]
UTILITIES = [
    ('Companhia de Energia Elétrica {place} S.A.', 'energy'),
    ('Companhia de Saneamento {place} S.A.', 'water'),
]
GOVERNMENT = [
    'Receita Federal do Brasil', 'Prefeitura Municipal de {city}',
    'Secretaria da Fazenda do Estado', 'Caixa Econômica Federal - FGTS',
]
STREETS = [
    'Rua das Flores', 'Avenida Brasil', 'Rua XV de Novembro',
    'Avenida Getúlio Vargas', 'Rua Sete de Setembro', 'Rua Tiradentes',
    'Avenida Presidente Vargas', 'Rua Dom Pedro II', 'Rua São Bento',
    'Avenida Paulista', 'Rua da Consolação', 'Rua Barão do Rio Branco',
    'Avenida Independência', 'Rua Marechal Deodoro', 'Rua José Bonifácio',
    'Travessa São José', 'Rua Conceição', 'Alameda Santos',
    'Rua Padre Anchieta', 'Avenida João Pessoa',
]
DISTRICTS = [
    'Centro', 'Jardim América', 'Vila Nova', 'Bela Vista', 'Santa Cecília',
    'Boa Vista', 'São José', 'Vila Mariana', 'Jardim Paulista',
    'Cidade Nova', 'Industrial', 'Santo Amaro', 'Liberdade', 'Aparecida',
]
COMPLEMENTS = ['', '', '', '', 'Sala 2', 'Loja 1', 'Galpão 3', 'Apto 41',
               'Fundos', 'Bloco B', '2º andar']

# (name, UF, IBGE code, CEP prefix, DDD)
CITIES = [
    ('São Paulo', 'SP', '3550308', '01', '11'),
    ('Campinas', 'SP', '3509502', '13', '19'),
    ('Santos', 'SP', '3548500', '11', '13'),
    ('Ribeirão Preto', 'SP', '3543402', '14', '16'),
    ('São José dos Campos', 'SP', '3549904', '12', '12'),
    ('Sorocaba', 'SP', '3552205', '18', '15'),
    ('Rio de Janeiro', 'RJ', '3304557', '20', '21'),
    ('Niterói', 'RJ', '3303302', '24', '21'),
    ('Belo Horizonte', 'MG', '3106200', '30', '31'),
    ('Uberlândia', 'MG', '3170206', '38', '34'),
    ('Juiz de Fora', 'MG', '3136702', '36', '32'),
    ('Curitiba', 'PR', '4106902', '80', '41'),
    ('Londrina', 'PR', '4113700', '86', '43'),
    ('Maringá', 'PR', '4115200', '87', '44'),
    ('Porto Alegre', 'RS', '4314902', '90', '51'),
    ('Caxias do Sul', 'RS', '4305108', '95', '54'),
    ('Florianópolis', 'SC', '4205407', '88', '48'),
    ('Joinville', 'SC', '4209102', '89', '47'),
    ('Salvador', 'BA', '2927408', '40', '71'),
    ('Recife', 'PE', '2611606', '50', '81'),
    ('Fortaleza', 'CE', '2304400', '60', '85'),
    ('Brasília', 'DF', '5300108', '70', '61'),
    ('Goiânia', 'GO', '5208707', '74', '62'),
    ('Vitória', 'ES', '3205309', '29', '27'),
    ('Belém', 'PA', '1501402', '66', '91'),
    ('Manaus', 'AM', '1302603', '69', '92'),
    ('Natal', 'RN', '2408102', '59', '84'),
    ('João Pessoa', 'PB', '2507507', '58', '83'),
    ('Maceió', 'AL', '2704302', '57', '82'),
    ('São Luís', 'MA', '2111300', '65', '98'),
    ('Cuiabá', 'MT', '5103403', '78', '65'),
    ('Campo Grande', 'MS', '5002704', '79', '67'),
    ('Ariquemes', 'RO', '1100023', '76', '69'),
]
# Weight the big capitals, as a real customer base would be.
CITY_WEIGHTS = [30, 8, 5, 4, 4, 3, 12, 3, 8, 3, 2, 6, 2, 2, 5, 2, 3, 2, 4,
                3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]

# (BACEN country code, city) for foreign clients
FOREIGN = [
    ('0639', 'Buenos Aires', 'Argentina'), ('2496', 'Miami', 'Estados Unidos'),
    ('6076', 'Lisboa', 'Portugal'), ('8451', 'Montevidéu', 'Uruguai'),
    ('1589', 'Santiago', 'Chile'), ('5860', 'Assunção', 'Paraguai'),
]
FOREIGN_COMPANIES = [
    'Importadora del Sur S.R.L.', 'Atlantic Trading LLC',
    'Distribuidora Lusitana Lda.', 'Comercial Rioplatense S.A.',
    'Andes Foods SpA', 'Mercantil Guaraní S.A.', 'Iberia Partners S.L.',
]

# (codigo_banco, bank name) for party bank data
BANKS = [('001', 'Banco do Brasil'), ('237', 'Bradesco'), ('341', 'Itaú'),
         ('104', 'Caixa Econômica Federal'), ('033', 'Santander'),
         ('260', 'Nu Pagamentos'), ('077', 'Banco Inter'), ('756', 'Sicoob')]

# Product catalogue for NF-e items: (code, description, NCM, unit, price)
PRODUCTS = [
    ('PRD0001', 'Óleo de Soja 900ml', '1507.90.11', 'UN', 7.89),
    ('PRD0002', 'Arroz Tipo 1 5kg', '1006.30.21', 'PCT', 24.90),
    ('PRD0003', 'Feijão Carioca 1kg', '0713.33.19', 'PCT', 8.49),
    ('PRD0004', 'Café Torrado e Moído 500g', '0901.21.00', 'PCT', 16.90),
    ('PRD0005', 'Açúcar Cristal 5kg', '1701.14.00', 'PCT', 21.50),
    ('PRD0006', 'Shampoo Anticaspa 350ml', '3305.10.00', 'UN', 18.75),
    ('PRD0007', 'Condicionador Hidratação 350ml', '3305.90.00', 'UN', 17.40),
    ('PRD0008', 'Sabão em Pó 1kg', '3402.20.00', 'CX', 12.30),
    ('PRD0009', 'Papel Sulfite A4 500 folhas', '4802.56.10', 'RESMA', 27.90),
    ('PRD0010', 'Caneta Esferográfica Azul', '9608.10.00', 'CX', 32.00),
    ('PRD0011', 'Pastilha de Freio Dianteira', '8708.30.90', 'JG', 89.90),
    ('PRD0012', 'Filtro de Óleo', '8421.23.00', 'UN', 24.50),
    ('PRD0013', 'Cimento CP II 50kg', '2523.29.10', 'SC', 36.90),
    ('PRD0014', 'Tinta Acrílica Branca 18L', '3209.10.10', 'GL', 289.00),
    ('PRD0015', 'Parafuso Sextavado 1/2"', '7318.15.00', 'CENTO', 45.00),
    ('PRD0016', 'Cabo Flexível 2,5mm 100m', '8544.49.00', 'RL', 219.90),
    ('PRD0017', 'Teclado USB ABNT2', '8471.60.52', 'UN', 59.90),
    ('PRD0018', 'Monitor LED 24"', '8528.52.20', 'UN', 899.00),
    ('PRD0019', 'Camiseta Algodão Básica', '6109.10.00', 'UN', 29.90),
    ('PRD0020', 'Queijo Muçarela kg', '0406.10.10', 'KG', 42.90),
]

# Company bank and cash accounts: (tipo, codigo_banco, descricao, agencia,
# conta, inactive, share of movements)
ACCOUNTS = [
    ('CC', '001', 'Banco do Brasil - Conta Movimento', '1234-5', '56789-0',
     False, 34),
    ('CC', '341', 'Itaú - Conta Corrente', '0912', '23456-7', False, 30),
    ('CC', '260', 'Nubank PJ', '0001', '9876543-2', False, 20),
    ('CX', '999', 'Caixinha', '', '', False, 16),
    ('CC', '237', 'Bradesco - Conta Antiga', '3321-0', '0012345-6', True, 0),
]
