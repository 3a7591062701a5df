"""Every write of the sales domain, one module per area; import them from here."""

from kehu.sales.services import catalogue, documents  # products and price lists; quotes → orders → payments
from kehu.sales.services.leads import (
    Duplicates,
    assign_lead,
    convert,
    create_lead,
    delete_lead,
    disqualify,
    find_duplicates,
    qualify,
    update_lead,
)
from kehu.sales.services.opportunities import (
    StageConflict,
    assign_opportunity,
    clean_lines,
    create_opportunity,
    default_pipeline,
    delete_opportunity,
    first_stage,
    move_stage,
    set_contacts,
    set_lines,
    update_opportunity,
)

__all__ = [
    "catalogue",
    "documents",
    "StageConflict",
    "Duplicates",
    "assign_lead",
    "assign_opportunity",
    "clean_lines",
    "convert",
    "create_lead",
    "create_opportunity",
    "default_pipeline",
    "delete_lead",
    "delete_opportunity",
    "disqualify",
    "find_duplicates",
    "first_stage",
    "move_stage",
    "qualify",
    "set_contacts",
    "set_lines",
    "update_lead",
    "update_opportunity",
]
