"""Sales forms, one module per area; re-exported here."""

from kehu.sales.forms.leads import DisqualifyForm, LeadForm
from kehu.sales.forms.opportunities import LossForm, OpportunityForm
from kehu.sales.forms.pipelines import PipelineForm, StageForm

__all__ = ["DisqualifyForm", "LeadForm", "LossForm", "OpportunityForm", "PipelineForm", "StageForm"]
