"""Pages of the measures: one module per part, each with its own `urlpatterns`."""
