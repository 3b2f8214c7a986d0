"""Default Kondo products (DOMAIN.md §1 cooperative practice), created once per network."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from jigi.savings.models import PostingFrequency, ProductKind, SavingsProduct, ShareProduct

DEFAULT_PRODUCTS = [
    # code, name, kind, settings
    ("EPV", "Épargne à vue (livret)", ProductKind.VOLUNTARY,
     {"interest_rate": Decimal("3.00"), "min_balance_for_interest": 5_000, "min_balance": 1_000,
      "withdrawal_fee": 0, "interest_posting": PostingFrequency.YEARLY, "dormancy_months": 12}),
    ("NAN", "Épargne nantie (garantie de crédit)", ProductKind.GUARANTEE,
     {"guarantee_percent": Decimal("20.00")}),
    ("DAT", "Dépôt à terme", ProductKind.TERM,
     {"interest_rate": Decimal("5.00"), "term_months": 12,
      "rate_slabs": [{"months": 3, "amount": 0, "rate": "3.50"},
                     {"months": 6, "amount": 0, "rate": "4.50"},
                     {"months": 12, "amount": 0, "rate": "5.00"},
                     {"months": 12, "amount": 1_000_000, "rate": "5.50"},
                     {"months": 24, "amount": 0, "rate": "6.00"}],
      "early_withdrawal_penalty_percent": Decimal("50.00"),
      "interest_posting": PostingFrequency.YEARLY}),
    ("GRP", "Épargne de groupe (groupements de femmes)", ProductKind.GROUP,
     {"interest_rate": Decimal("2.00"), "min_balance_for_interest": 10_000,
      "interest_posting": PostingFrequency.YEARLY}),
]


def kondo_products_seed(*, organisation) -> tuple[ShareProduct, dict[str, SavingsProduct]]:
    with transaction.atomic():
        share = ShareProduct.objects.filter(organisation=organisation).first()
        if share is None:
            share = ShareProduct.objects.create(
                organisation=organisation, name="Part sociale Kondo Jigima", nominal_value=5_000,
                min_shares=2, max_shares=200, entry_fee=1_000)
        products = {}
        for code, name, kind, values in DEFAULT_PRODUCTS:
            products[code], _ = SavingsProduct.objects.get_or_create(
                organisation=organisation, code=code,
                defaults={"name": name, "kind": kind, **values})
    return share, products
