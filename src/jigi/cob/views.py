from django.http import HttpResponse


def cob_page(request):
    return HttpResponse("")


cob_progress = cob_start_view = cob_page
