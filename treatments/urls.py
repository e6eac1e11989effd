from django.urls import path

from treatments import views

app_name = "treatments"

urlpatterns = [
    path("patients/<int:pk>/maps/new/", views.map_new, name="map_new"),
    path("maps/<int:pk>/", views.map_detail, name="map"),
    path("maps/<int:pk>/zones/", views.map_plan, name="map_plan"),
    path("maps/<int:pk>/status/", views.map_status, name="map_status"),
]
