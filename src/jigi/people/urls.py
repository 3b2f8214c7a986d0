from django.urls import path

from jigi.people import views

# Included in the "web" namespace.
urlpatterns = [
    path("people/", views.person_search, name="person_search"),
    path("people/register/", views.person_register, name="person_register"),
]
