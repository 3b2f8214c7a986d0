from django.urls import path

from jigi.ledger import views

# Included in the "web" namespace by jigi/web/urls.py.
urlpatterns = [
    path("ledger/", views.book_list, name="ledger_books"),
    path("ledger/books/<int:pk>/", views.book_trial_balance, name="ledger_book"),
    path("ledger/books/<int:pk>/accounts/<str:code>/", views.account_statement,
         name="ledger_statement"),
    path("ledger/entries/<int:pk>/", views.entry_detail, name="ledger_entry"),
    path("ledger/org/<str:code>/", views.org_trial_balance, name="ledger_org"),
]
