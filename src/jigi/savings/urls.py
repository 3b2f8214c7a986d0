from django.urls import path

from jigi.savings import views

# Included in the "web" namespace by jigi/web/urls.py.
urlpatterns = [
    path("savings/", views.counter_home, name="savings_counter"),
    path("savings/drawer/", views.drawer, name="savings_drawer"),
    path("savings/drawers/<int:pk>/acknowledge/", views.drawer_acknowledge,
         name="savings_drawer_acknowledge"),
    path("savings/products/", views.products, name="savings_products"),
    path("savings/accounts/<int:pk>/", views.account_detail, name="savings_account"),
    path("savings/accounts/<int:pk>/balance/", views.account_balance, name="savings_balance"),
    path("savings/accounts/<int:pk>/statement", views.statement, name="savings_statement"),
    path("savings/accounts/<int:pk>/<str:kind>/", views.account_operation,
         name="savings_operation"),
    path("savings/receipts/<int:pk>/", views.receipt, name="savings_receipt"),
    path("savings/operations/<int:tx_id>/approve/", views.approve, name="savings_approve"),
    path("savings/operations/<int:tx_id>/reject/", views.reject, name="savings_reject"),
    path("savings/operations/<int:tx_id>/reverse/", views.reverse, name="savings_reverse"),
    path("savings/members/<int:person_id>/", views.member_savings, name="savings_member"),
]
