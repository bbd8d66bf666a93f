"""Error pages that say why when the app knows, and nothing about URL routing when it does not."""

from django.http import HttpResponseNotFound
from django.template import loader
from django.urls import Resolver404


def page_not_found(request, exception):
    """404 page; an app-raised ``Http404("No such study.")`` shows its message, an unknown URL does not."""
    message = None
    if not isinstance(exception, Resolver404) and exception.args and isinstance(exception.args[0], str):
        message = exception.args[0]
    body = loader.render_to_string("404.html", {"message": message}, request)
    return HttpResponseNotFound(body)
