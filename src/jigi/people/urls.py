from django.urls import path

from jigi.people import views

# Included in the "web" namespace.
urlpatterns = [
    path("people/", views.person_search, name="person_search"),
    path("people/register/", views.person_register, name="person_register"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/consents/", views.consent_add, name="consent_add"),
    path("people/<int:pk>/consents/<int:consent_id>/withdraw/", views.consent_withdraw,
         name="consent_withdraw"),
    path("people/<int:pk>/merge/<int:other_id>/", views.person_merge, name="person_merge"),
    path("people/<int:pk>/duplicates/<int:candidate_id>/dismiss/", views.duplicate_dismiss,
         name="duplicate_dismiss"),
]
