"""The REST API under /api/v1/, the OpenAPI schema and its browsable docs."""

urlpatterns: list = []
