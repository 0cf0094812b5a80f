from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from poverty_relief.history import protect_history_after_migrate

        from .roles import sync_role_groups
        from .services import end_sessions_of_inactive_user

        # After every migrate, so that a permission added by any app reaches its roles at once.
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
        # Once per migrate (post_migrate is sent for each app; this one is the accounts app's), when every
        # app's tables exist: guards on the audit trail that no session can switch off.
        post_migrate.connect(
            protect_history_after_migrate, sender=self, dispatch_uid="accounts.protect_history"
        )
        # A closed account keeps no session and no API token, whichever way it was closed.
        post_save.connect(
            end_sessions_of_inactive_user, sender=self.get_model("User"), dispatch_uid="accounts.end_sessions"
        )
