from rest_framework.routers import SimpleRouter

from kehu.sales.api import document_views, opportunity_views, views

router = SimpleRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("opportunities", opportunity_views.OpportunityViewSet, basename="opportunity")
router.register("pipelines", opportunity_views.PipelineViewSet, basename="pipeline")
router.register("products", document_views.ProductViewSet, basename="product")
router.register("price-lists", document_views.PriceListViewSet, basename="pricelist")
router.register("quotes", document_views.QuoteViewSet, basename="quote")
router.register("orders", document_views.SalesOrderViewSet, basename="salesorder")
router.register("contracts", document_views.ContractViewSet, basename="contract")
router.register("payments", document_views.PaymentViewSet, basename="payment")

urlpatterns = router.urls
