from django.urls import path

from treatments import session_views, views

app_name = "treatments"

urlpatterns = [
    path("patients/<int:pk>/maps/new/", views.map_new, name="map_new"),
    path("maps/<int:pk>/", views.map_detail, name="map"),
    path("maps/<int:pk>/zones/", views.map_plan, name="map_plan"),
    path("maps/<int:pk>/status/", views.map_status, name="map_status"),
    path("patients/<int:pk>/sessions/new/", session_views.session_new, name="session_new"),
    path("patients/<int:pk>/booklet/", session_views.patient_booklet, name="booklet"),
    path("sessions/", session_views.session_list, name="sessions"),
    path("sessions/<int:pk>/", session_views.session_detail, name="session"),
    path("sessions/<int:pk>/edit/", session_views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/sign/", session_views.session_sign, name="session_sign"),
    path("sessions/<int:pk>/print/", session_views.session_print, name="session_print"),
    path("sessions/<int:pk>/pdf/", session_views.session_pdf, name="session_pdf"),
    path(
        "sessions/<int:pk>/side-effects/new/",
        session_views.side_effect_new,
        name="side_effect_new",
    ),
    path(
        "sessions/<int:pk>/side-effects/<int:effect_pk>/resolve/",
        session_views.side_effect_resolve,
        name="side_effect_resolve",
    ),
    path("sessions/<int:pk>/amendments/new/", session_views.amendment_new, name="amendment_new"),
    path("lots/", session_views.lot_search, name="lots"),
    path("lots/<int:pk>/recall/", session_views.lot_recall, name="lot_recall"),
]
