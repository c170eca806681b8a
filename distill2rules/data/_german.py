"""Codebook of the Statlog German Credit data (``german.data``), transcribed from ``german.doc``.

``GERMAN_COLUMNS`` lists the 20 attributes in file order with readable names, followed by
the class; ``GERMAN_CODES`` maps each qualitative attribute's A-codes to readable labels.
"""

from __future__ import annotations

__all__ = ["GERMAN_CODES", "GERMAN_COLUMNS", "GERMAN_TARGET_LABELS"]

GERMAN_COLUMNS: tuple[str, ...] = (
    "checking_status",  # 1  qualitative
    "duration_months",  # 2  numerical
    "credit_history",  # 3  qualitative
    "purpose",  # 4  qualitative
    "credit_amount",  # 5  numerical
    "savings",  # 6  qualitative
    "employment_since",  # 7  qualitative
    "installment_rate",  # 8  numerical (% of disposable income)
    "personal_status_sex",  # 9  qualitative
    "other_debtors",  # 10 qualitative
    "residence_since",  # 11 numerical
    "property",  # 12 qualitative
    "age",  # 13 numerical
    "other_installment_plans",  # 14 qualitative
    "housing",  # 15 qualitative
    "existing_credits",  # 16 numerical
    "job",  # 17 qualitative
    "num_dependents",  # 18 numerical (people liable to provide maintenance for)
    "telephone",  # 19 qualitative
    "foreign_worker",  # 20 qualitative
    "credit_risk",  # class: 1 = good, 2 = bad
)

GERMAN_CODES: dict[str, dict[str, str]] = {
    "checking_status": {
        "A11": "< 0 DM",
        "A12": "0 <= ... < 200 DM",
        "A13": ">= 200 DM / salary assignments >= 1 year",
        "A14": "no checking account",
    },
    "credit_history": {
        "A30": "no credits taken / all paid back duly",
        "A31": "all credits at this bank paid back duly",
        "A32": "existing credits paid back duly till now",
        "A33": "delay in paying off in the past",
        "A34": "critical account / other credits elsewhere",
    },
    "purpose": {
        "A40": "car (new)",
        "A41": "car (used)",
        "A42": "furniture/equipment",
        "A43": "radio/television",
        "A44": "domestic appliances",
        "A45": "repairs",
        "A46": "education",
        "A47": "vacation",
        "A48": "retraining",
        "A49": "business",
        "A410": "others",
    },
    "savings": {
        "A61": "< 100 DM",
        "A62": "100 <= ... < 500 DM",
        "A63": "500 <= ... < 1000 DM",
        "A64": ">= 1000 DM",
        "A65": "unknown / no savings account",
    },
    "employment_since": {
        "A71": "unemployed",
        "A72": "< 1 year",
        "A73": "1 <= ... < 4 years",
        "A74": "4 <= ... < 7 years",
        "A75": ">= 7 years",
    },
    "personal_status_sex": {
        "A91": "male: divorced/separated",
        "A92": "female: divorced/separated/married",
        "A93": "male: single",
        "A94": "male: married/widowed",
        "A95": "female: single",
    },
    "other_debtors": {
        "A101": "none",
        "A102": "co-applicant",
        "A103": "guarantor",
    },
    "property": {
        "A121": "real estate",
        "A122": "building society savings / life insurance",
        "A123": "car or other",
        "A124": "unknown / no property",
    },
    "other_installment_plans": {
        "A141": "bank",
        "A142": "stores",
        "A143": "none",
    },
    "housing": {
        "A151": "rent",
        "A152": "own",
        "A153": "for free",
    },
    "job": {
        "A171": "unemployed / unskilled non-resident",
        "A172": "unskilled resident",
        "A173": "skilled employee / official",
        "A174": "management / self-employed / highly qualified",
    },
    "telephone": {
        "A191": "none",
        "A192": "yes, registered",
    },
    "foreign_worker": {
        "A201": "yes",
        "A202": "no",
    },
}

GERMAN_TARGET_LABELS: dict[int, str] = {1: "good", 2: "bad"}
