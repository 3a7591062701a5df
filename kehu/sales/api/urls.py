from rest_framework.routers import SimpleRouter

from kehu.sales.api import views

router = SimpleRouter()
router.register("leads", views.LeadViewSet, basename="lead")

urlpatterns = router.urls
