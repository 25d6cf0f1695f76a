"""Read CLINC150 (OOS-eval) for `out_of_scope`: its `oos` texts and unrelated intents.

CLINC intents a shop bot answers itself (payments, orders, small talk) are excluded,
and so is any text with a shop word, so `out_of_scope` never contradicts a shop intent.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from nlu.data import Example

from .config import OUT_OF_SCOPE_POOL, TrainingDataError, require_source, stable_hash
from .report import BuildReport
from .segments import clean_text

# CLINC150 intents that overlap what a shop-support bot does (orders, payments, cards,
# accounts, small talk it answers itself, product facts), so they must not be labelled
# out_of_scope. Everything else in CLINC150's in-scope set may feed out_of_scope.
CLINC_EXCLUDED = {
    # banking: payments, bills and transactions look like payment_issue / refunds
    "account_blocked": "banking: blocked account looks like an account / payment problem",
    "balance": "banking: balance questions look like refund tracking",
    "bill_balance": "banking: bills overlap invoices",
    "bill_due": "banking: bills overlap invoices",
    "freeze_account": "banking: account freezing overlaps account intents",
    "order_checks": "banking: 'order' wording overlaps place_order",
    "pay_bill": "banking: paying overlaps payment intents",
    "spending_history": "banking: purchase history overlaps orders / invoices",
    "transactions": "banking: charges overlap payment_issue / invoices",
    "transfer": "banking: money transfer overlaps payment methods",
    "routing": "banking: bank details overlap payment methods",
    "direct_deposit": "banking: deposits overlap refunds",
    "interest_rate": "banking: close to payment questions",
    "min_payment": "credit cards: payments",
    # credit cards: declined / lost cards are exactly payment_issue
    "card_declined": "credit cards: declined card is a payment_issue",
    "damaged_card": "credit cards: payment_issue",
    "expiration_date": "credit cards: card details overlap payment methods",
    "new_card": "credit cards: card questions overlap payment methods",
    "replacement_card_duration": "credit cards: card questions",
    "report_lost_card": "credit cards: payment_issue",
    "report_fraud": "credit cards: fraudulent charges are a complaint / payment_issue",
    "pin_change": "credit cards: card questions",
    "credit_limit": "credit cards: payment_issue",
    "credit_limit_change": "credit cards: payment_issue",
    "apr": "credit cards: payment questions",
    "international_fees": "credit cards: fees overlap payment and delivery costs",
    "redeem_rewards": "credit cards: rewards overlap shop loyalty / discounts",
    "rewards_balance": "credit cards: rewards overlap shop loyalty / discounts",
    "credit_score": "credit cards: finance, close to payment questions",
    "application_status": "credit cards: 'status of my application' reads like track_order",
    "improve_credit_score": "credit cards: finance, close to payment questions",
    # shopping and orders: these are shop intents
    "order": "shopping: 'order X' is place_order / product_search",
    "order_status": "shopping: this is track_order",
    "shopping_list": "shopping: shopping lists overlap product_search",
    "shopping_list_update": "shopping: shopping lists overlap product_search",
    "cancel_reservation": "travel: 'cancel my ...' overlaps cancel_order",
    "confirm_reservation": "travel: 'confirm my ...' overlaps order status",
    # product facts for groceries and vehicles the catalog sells
    "ingredients_list": "kitchen: ingredients overlap product_info for groceries",
    "nutrition_info": "kitchen: nutrition overlaps product_info for groceries",
    "calories": "kitchen: calories overlap product_info for groceries",
    "food_last": "kitchen: shelf life overlaps product_info for groceries",
    "mpg": "auto: fuel use overlaps product_info for the catalog's vehicles",
    "find_phone": "utility: 'find my phone' reads like product_search for phones",
    # meta and small talk the bot answers with its own intents
    "greeting": "small talk: this is greet",
    "goodbye": "small talk: this is goodbye",
    "thank_you": "small talk: this is thank_you",
    "yes": "meta: this is affirm",
    "no": "meta: this is deny",
    "maybe": "meta: an answer to the bot's yes/no questions",
    "cancel": "meta: 'cancel that' overlaps deny / cancel_order",
    "repeat": "meta: a request to the bot itself",
    "what_can_i_ask_you": "meta: the bot answers what it can do",
    "are_you_a_bot": "meta: often precedes contact_human_agent",
    "user_name": "meta: account name overlaps edit_account",
    "change_user_name": "meta: account name overlaps edit_account",
}

# CLINC texts that mention these words read like shop requests even when their CLINC
# intent does not; labelling them out_of_scope would contradict the shop intents.
SHOP_WORDS = re.compile(
    r"\b(orders?|ordered|refunds?|returns?|returned|deliver\w*|ship\w*|package|parcel|"
    r"purchase\w*|buy|bought|shop\w*|store|stores|price|prices|priced|cost|costs|cheap\w*|"
    r"discount\w*|coupon\w*|invoice\w*|receipt\w*|accounts?|password|cart|checkout|"
    r"amazon|products?|sale|sells?|warranty|recommend\w*|gift\w*|payments?|pay|paid|"
    r"charged?|card|subscri\w*|newsletter|complain\w*|customer)\b",
    re.IGNORECASE,
)


def load_out_of_scope(sources: Path, report: BuildReport) -> list[Example]:
    """CLINC150 `oos` examples plus a sample of its non-shopping in-scope intents.

    The pool is balanced: about half `oos` and half spread evenly over the allowed
    CLINC intents, each group picked by stable hash; shop-sounding texts are dropped.
    """
    path = sources / "clinc150" / "data_full.json"
    require_source(path, "CLINC150")
    data = json.loads(path.read_text(encoding="utf-8"))
    oos: list[str] = []
    by_intent: dict[str, list[str]] = defaultdict(list)
    for split in ("oos_train", "oos_val", "oos_test"):
        oos.extend(text for text, _ in data[split])
    for split in ("train", "val", "test"):
        for text, label in data[split]:
            by_intent[label].append(text)
    unknown = sorted(set(CLINC_EXCLUDED) - set(by_intent))
    if unknown:
        raise TrainingDataError(
            f"expected every excluded CLINC intent to exist, but {unknown} do not; "
            "fix CLINC_EXCLUDED in scripts/training_data_builder/clinc.py"
        )

    def keep(text: str, group: str) -> bool:
        if SHOP_WORDS.search(text):
            report.dropped[f"clinc {group}: mentions shop words"] += 1
            return False
        return True

    allowed = sorted(set(by_intent) - set(CLINC_EXCLUDED))
    report.clinc_intents_used = allowed
    for intent in sorted(CLINC_EXCLUDED):
        report.dropped["clinc in-scope: excluded intents (examples)"] += len(by_intent[intent])
    half = OUT_OF_SCOPE_POOL // 2
    per_intent = max(1, (OUT_OF_SCOPE_POOL - half) // len(allowed))
    chosen: list[tuple[str, str]] = []
    oos_sorted = sorted(set(oos), key=lambda t: stable_hash("oos", t))
    chosen.extend(("clinc-oos", t) for t in oos_sorted if keep(t, "oos"))
    chosen = chosen[:half]
    for intent in allowed:
        texts = sorted(set(by_intent[intent]), key=lambda t: stable_hash("clinc", intent, t))
        picked = [t for t in texts[: per_intent * 3] if keep(t, "in-scope")][:per_intent]
        chosen.extend((f"clinc-{intent}", t) for t in picked)
    return [Example(clean_text(t), "out_of_scope", source=src) for src, t in chosen]
