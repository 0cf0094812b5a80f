from rest_framework.routers import SimpleRouter

urlpatterns: list = []


def register(router: SimpleRouter) -> None:
    pass
