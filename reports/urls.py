from django.urls import path

from reports import views

# No namespace: "home" and "audit" are the project's own names.
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_search, name="audit"),
    path("patients/<int:pk>/fhir/", views.patient_fhir, name="patient_fhir"),
]
