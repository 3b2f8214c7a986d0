from django.urls import path

from jigi.credit import views

# Included in the "web" namespace by jigi/web/urls.py.
urlpatterns = [
    path("credit/", views.loan_list, name="credit_loans"),
    path("credit/apply/", views.apply_start, name="credit_apply_start"),
    path("credit/apply/<int:person_id>/", views.loan_apply, name="credit_apply"),
    path("credit/members/<int:person_id>/", views.member_loans, name="credit_member"),
    path("credit/products/", views.product_list, name="credit_products"),
    path("credit/products/new/", views.product_edit, name="credit_product_new"),
    path("credit/products/<int:pk>/", views.product_edit, name="credit_product"),
    path("credit/queue/", views.queue, name="credit_queue"),
    path("credit/loans/<int:pk>/", views.loan_detail, name="credit_loan"),
    path("credit/loans/<int:pk>/schedule/", views.loan_schedule_card,
         name="credit_schedule_card"),
    path("credit/loans/<int:pk>/approve/", views.loan_decide, {"decision": "approve"},
         name="credit_approve"),
    path("credit/loans/<int:pk>/reject/", views.loan_decide, {"decision": "reject"},
         name="credit_reject"),
    path("credit/loans/<int:pk>/disburse/", views.loan_disburse, name="credit_disburse"),
    path("credit/loans/<int:pk>/repay/", views.loan_repay, name="credit_repay"),
    path("credit/loans/<int:pk>/reschedule/", views.loan_reschedule, name="credit_reschedule"),
    path("credit/groups/", views.group_list, name="credit_groups"),
    path("credit/groups/<int:pk>/", views.group_detail, name="credit_group"),
    path("credit/groups/<int:pk>/sheet/", views.collection_sheet, name="credit_sheet"),
    path("credit/groups/<int:pk>/sheets/<int:sheet_id>/", views.collection_sheet_result,
         name="credit_sheet_result"),
]
