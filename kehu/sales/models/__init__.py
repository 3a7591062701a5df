"""The sales domain's tables, one module per area; import them from here."""

from kehu.sales.models.documents import (
    Contract,
    ContractFile,
    DocumentCounter,
    OrderLine,
    Payment,
    Quote,
    QuoteLine,
    SalesOrder,
)
from kehu.sales.models.leads import Lead
from kehu.sales.models.opportunities import Opportunity, OpportunityContact, OpportunityLine, StageHistory
from kehu.sales.models.pipelines import Pipeline, Stage
from kehu.sales.models.products import PriceList, PriceListItem, Product
from kehu.sales.models.targets import Target

__all__ = [
    "Contract",
    "ContractFile",
    "DocumentCounter",
    "OrderLine",
    "Payment",
    "Quote",
    "QuoteLine",
    "SalesOrder",
    "Lead",
    "Opportunity",
    "OpportunityContact",
    "OpportunityLine",
    "Pipeline",
    "PriceList",
    "PriceListItem",
    "Product",
    "Stage",
    "StageHistory",
    "Target",
]
