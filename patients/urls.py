from django.urls import path

from patients import views

app_name = "patients"

# The patient's maps, new sessions and booklet are under /patients/<pk>/ too, named by
# treatments (treatments/urls.py, `for_patient`).

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_chart, name="chart"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/access/", views.patient_access, name="access"),
    path("<int:pk>/archive/", views.patient_archive, name="archive"),
    path("<int:pk>/consents/new/", views.consent_new, name="consent_new"),
    path(
        "<int:pk>/consents/<int:consent_pk>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path(
        "<int:pk>/consents/<int:consent_pk>/signature/",
        views.consent_signature,
        name="consent_signature",
    ),
    path("<int:pk>/photos/new/", views.photo_new, name="photo_new"),
    path("<int:pk>/photos/compare/", views.photo_compare, name="photo_compare"),
    path(
        "<int:pk>/photos/<int:photo_pk>/full/",
        views.photo_file,
        {"size": "full"},
        name="photo_full",
    ),
    path(
        "<int:pk>/photos/<int:photo_pk>/thumbnail/",
        views.photo_file,
        {"size": "thumbnail"},
        name="photo_thumbnail",
    ),
    path("<int:pk>/measurements/", views.measurements, name="measurements"),
    path("<int:pk>/measurements/new/", views.measurement_new, name="measurement_new"),
]
