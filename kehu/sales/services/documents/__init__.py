"""Every write to quotes (报价单), sales orders (销售订单), contracts (合同) and payments (回款) (S7), one
module each (orders with quotes, which they come from) plus what they share; import them from here.

Totals are computed here from the lines and stored. Numbers (Q-2026-00001, SO-…, CT-…) come from a counter
row locked for the transaction, so two people saving at the same moment never share a number. A payment
locks its order or contract row before reading the open amount, so two receipts cannot together exceed it.
"""

from kehu.sales.services.documents.common import clean_document_lines, compute_totals, money, next_number
from kehu.sales.services.documents.contracts import (
    add_contract_file,
    create_contract,
    delete_contract_file,
    update_contract,
)
from kehu.sales.services.documents.payments import (
    Collection,
    cancel_payment,
    cancel_planned,
    check_takes_payments,
    collection,
    create_payment,
    overdue_q,
    receive_payment,
    sale_payments,
    shared_order,
)
from kehu.sales.services.documents.quotes import (
    Accepted,
    accept_quote,
    create_quote,
    decline_quote,
    default_price_list,
    no_price_list_message,
    opportunity_lines,
    revise_quote,
    send_quote,
    set_order_status,
    update_quote,
)

__all__ = [
    "Accepted",
    "Collection",
    "accept_quote",
    "add_contract_file",
    "cancel_payment",
    "cancel_planned",
    "check_takes_payments",
    "clean_document_lines",
    "collection",
    "compute_totals",
    "create_contract",
    "create_payment",
    "create_quote",
    "decline_quote",
    "default_price_list",
    "delete_contract_file",
    "money",
    "next_number",
    "no_price_list_message",
    "opportunity_lines",
    "overdue_q",
    "receive_payment",
    "revise_quote",
    "sale_payments",
    "send_quote",
    "set_order_status",
    "shared_order",
    "update_contract",
    "update_quote",
]
