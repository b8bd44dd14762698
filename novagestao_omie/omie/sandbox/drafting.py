# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""What the generators of the dataset share: Omie's ids, stamps and keys"""
from .formats import format_date, format_time


class IdSequence:
    "Increasing 10-digit ids with small random gaps, like Omie's sequences"

    def __init__(self, rng, start):
        self.rng = rng
        self.last = start

    def __call__(self):
        self.last += self.rng.randint(1, 29)
        return self.last


def make_info(inc_day, inc_secs, alt_day, alt_secs, user_inc, user_alt,
        via_api):
    return {
        'dInc': format_date(inc_day), 'hInc': format_time(inc_secs),
        'uInc': user_inc,
        'dAlt': format_date(alt_day), 'hAlt': format_time(alt_secs),
        'uAlt': user_alt,
        'cImpAPI': 'S' if via_api else 'N',
    }


def nfe_key(uf_code, day, cnpj_digits, serie, number, rng):
    "A 44-digit NF-e access key with a correct modulo-11 check digit"
    body = '%02d%02d%02d%s55%03d%09d1%08d' % (
        int(uf_code), day.year % 100, day.month, cnpj_digits, int(serie),
        number, rng.randrange(10 ** 8))
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum(int(d) * weights[i % 8] for i, d in enumerate(reversed(body)))
    check = 11 - total % 11
    return body + str(0 if check >= 10 else check)


def cpf_check_digits(base):
    "The two CPF check digits of a 9-digit base (modulo 11)"
    numbers = [int(d) for d in base]
    for _ in range(2):
        weight = len(numbers) + 1
        total = sum(n * (weight - i) for i, n in enumerate(numbers))
        numbers.append(total * 10 % 11 % 10)
    return '%d%d' % tuple(numbers[-2:])
