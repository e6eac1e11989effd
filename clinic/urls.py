from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import i18n, two_factor, views
from clinic.two_factor import second_factor_exempt

handler400 = "clinic.views.bad_request"
handler500 = "clinic.views.server_error"

urlpatterns = [
    path("", include("reports.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True,
            extra_context={
                "failure_limit": settings.AXES_FAILURE_LIMIT,
                "require_2fa": settings.REQUIRE_2FA,
            },
        ),
        name="login",
    ),
    path("accounts/logout/", second_factor_exempt(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/2fa/", two_factor.verify, name="two_factor_verify"),
    path("accounts/2fa/setup/", two_factor.setup, name="two_factor_setup"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/language/", i18n.account_language, name="account_language"),
    path("patients/", include("patients.urls")),
    path("", include("treatments.urls")),
    path("admin/", admin.site.urls),
]
