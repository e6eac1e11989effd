from django.urls import include, path

from treatments.views import lots, maps, sessions

app_name = "treatments"

# A patient's treatment pages: under the patient's address, beside the chart and the
# rest of patients/urls.py, but treatments' views, so they are named here
# (treatments:map_new, treatments:session_new, treatments:booklet).
for_patient = [
    path("maps/new/", maps.map_new, name="map_new"),
    path("sessions/new/", sessions.session_new, name="session_new"),
    path("booklet/", sessions.patient_booklet, name="booklet"),
]

urlpatterns = [
    path("patients/<int:pk>/", include(for_patient)),
    path("maps/<int:pk>/", maps.map_detail, name="map"),
    path("maps/<int:pk>/zones/", maps.map_plan, name="map_plan"),
    path("maps/<int:pk>/status/", maps.map_status, name="map_status"),
    path("maps/<int:pk>/needles/", maps.map_needles, name="map_needles"),
    path("sessions/", sessions.session_list, name="session_list"),
    path("sessions/injection-lots/", sessions.injection_lots, name="injection_lots"),
    path("sessions/<int:pk>/", sessions.session_detail, name="session"),
    path("sessions/<int:pk>/edit/", sessions.session_edit, name="session_edit"),
    path("sessions/<int:pk>/sign/", sessions.session_sign, name="session_sign"),
    path("sessions/<int:pk>/print/", sessions.session_print, name="session_print"),
    path("sessions/<int:pk>/pdf/", sessions.session_pdf, name="session_pdf"),
    path(
        "sessions/<int:pk>/pdf/amended/", sessions.session_pdf_amended, name="session_pdf_amended"
    ),
    path(
        "sessions/<int:pk>/side-effects/new/",
        sessions.side_effect_new,
        name="side_effect_new",
    ),
    path(
        "sessions/<int:pk>/side-effects/<int:effect_pk>/resolve/",
        sessions.side_effect_resolve,
        name="side_effect_resolve",
    ),
    path(
        "sessions/<int:pk>/side-effects/<int:effect_pk>/review/",
        sessions.side_effect_review,
        name="side_effect_review",
    ),
    path("sessions/<int:pk>/amendments/new/", sessions.amendment_new, name="amendment_new"),
    path("lots/", lots.lot_search, name="lots"),
    path("lots/<int:pk>/recall/", lots.lot_recall, name="lot_recall"),
    path("lots/<int:pk>/recall/print/", lots.lot_recall_print, name="lot_recall_print"),
    path("lots/<int:pk>/recall.csv", lots.lot_recall_csv, name="lot_recall_csv"),
    path("lots/<int:pk>/quarantine/", lots.lot_quarantine, name="lot_quarantine"),
]
