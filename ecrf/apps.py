from django.apps import AppConfig


class EcrfConfig(AppConfig):
    name = "ecrf"
    verbose_name = "eCRF"

    def ready(self):
        from ecrf import signals  # noqa: F401  (connects the log-in/log-out messages)
