"""Default Kondo loan products (DOMAIN.md §1-2), created once per network.

Rates sit well under the 24 % SFD usury cap, as the cooperative lends below other lenders;
compulsory savings, membership and savings-before-credit follow West African cooperative
practice; approvals above 500,000 F CFA go to the network.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from jigi.credit.models import LoanProduct

LEVELS = [{"up_to": 500_000, "role": "caisse_manager"}, {"up_to": None, "role": "network_admin"}]

DEFAULT_LOAN_PRODUCTS = [
    ("AGR", "Crédit agricole de campagne", {
        "min_amount": 25_000, "max_amount": 1_500_000, "min_repayments": 1,
        "max_repayments": 12, "max_term_days": 400, "interest_rate": Decimal("16"),
        "allowed_patterns": ["crop", "income", "custom"],
        "application_fee_percent": Decimal("1"), "insurance_percent": Decimal("0.5"),
        "compulsory_savings_percent": Decimal("10"), "penalty_percent": Decimal("2"),
        "penalty_grace_days": 7, "arrears_tolerance": 100, "min_membership_months": 3,
        "min_shares": 2, "savings_before_credit_percent": Decimal("10"),
        "cycle_max_amounts": [300_000, 600_000, 1_000_000, 1_500_000],
        "max_installment_to_surplus_percent": Decimal("70"), "approval_levels": LEVELS}),
    ("COM", "Crédit petit commerce et artisanat", {
        "min_amount": 10_000, "max_amount": 2_000_000, "min_repayments": 6,
        "max_repayments": 18, "max_term_days": 560, "interest_rate": Decimal("17"),
        "allowed_patterns": ["regular", "income"],
        "application_fee_percent": Decimal("1"), "insurance_percent": Decimal("0.5"),
        "compulsory_savings_percent": Decimal("10"), "penalty_percent": Decimal("2"),
        "penalty_grace_days": 7, "arrears_tolerance": 100, "min_membership_months": 3,
        "min_shares": 2, "savings_before_credit_percent": Decimal("10"),
        "cycle_max_amounts": [250_000, 500_000, 1_000_000, 2_000_000],
        "overpayment": "to_savings",
        "max_installment_to_surplus_percent": Decimal("60"), "approval_levels": LEVELS}),
    ("GRF", "Crédit solidaire groupements de femmes", {
        "min_amount": 10_000, "max_amount": 300_000, "min_repayments": 8,
        "max_repayments": 26, "max_term_days": 370, "interest_rate": Decimal("16"),
        "repayment_every": 14, "repayment_unit": "days", "days_in_year": "365",
        "interest_period": "daily", "allowed_patterns": ["regular"],
        "application_fee_percent": Decimal("1"), "compulsory_savings_percent": Decimal("10"),
        "penalty_percent": Decimal("1"), "penalty_grace_days": 3, "arrears_tolerance": 50,
        "min_membership_months": 1, "min_shares": 1, "installment_multiples_of": 25,
        "cycle_max_amounts": [100_000, 200_000, 300_000], "overpayment": "to_savings",
        "max_installment_to_surplus_percent": Decimal("70"), "approval_levels": LEVELS}),
]


def kondo_loan_products_seed(*, organisation) -> dict[str, LoanProduct]:
    """Create the defaults once; each is held to the same usury check as a product saved by
    the administrator."""
    from jigi.credit.services.products import check_usury

    products = {}
    with transaction.atomic():
        for code, name, values in DEFAULT_LOAN_PRODUCTS:
            products[code], created = LoanProduct.objects.get_or_create(
                organisation=organisation, code=code, defaults={"name": name, **values})
            if created:
                check_usury(products[code])
    return products
