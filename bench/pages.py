"""Entry pages against bare views of their own rows, measured in the same run: the site worklist at the largest
site, a subject page and a lab panel.

    make bench   (or, against a study seeded by seed_scale: .venv/bin/python bench/pages.py --subjects N)

A "bare view" reads the rows the page shows with one plain query per table and renders them as a bare HTML
table: what any page showing those rows must at least do. The page is requested through Django's test client
as the demo coordinator (middleware, session and permission checks included). Prints one JSON line per goal.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, median_seconds, quick, setup_django, where_time_goes  # noqa: E402

REPEAT = 7
BARE = (
    "<table>{% for row in rows %}<tr>{% for value in row.values %}<td>{{ value }}</td>{% endfor %}</tr>"
    "{% endfor %}</table>"
)


def measure(subjects: int, repeat: int = REPEAT) -> list[Result]:
    repeat = 1 if quick() else repeat
    from django.db import connection

    client, pages = _pages()
    results = []
    for name, url, bare, goal in pages:
        assert client.get(url).status_code == 200, url  # warm: templates compiled, session read
        queries = []
        with connection.execute_wrapper(_counting(queries)):
            response = client.get(url)
        page_s = median_seconds(lambda url=url: client.get(url), repeat)
        bare_s = median_seconds(bare, repeat)
        ratio = page_s / bare_s
        figure = (
            f"{page_s * 1000:.0f} ms vs bare view {bare_s * 1000:.1f} ms; {len(queries)} queries, "
            f"{len(response.content) / 1024:.0f} KiB"
        )
        results.append(Result(f"{name}: within {goal:.0f}x its bare view", subjects, figure, ratio, ratio <= goal))
    return results


def profiles(repeat: int = REPEAT) -> dict[str, str]:
    """Page name -> where its time goes (``where_time_goes``), for the pages other than the worklist."""
    client, pages = _pages()
    found = {}
    for name, url, _bare, _goal in pages[1:]:
        assert client.get(url).status_code == 200, url
        found[name] = where_time_goes(lambda url=url: client.get(url), 1 if quick() else repeat)
    return found


def _pages():
    """The coordinator's test client, and (name, URL, bare view, goal) of each page measured."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from ecrf.models import LabDraw, LabValue, Subject, Visit
    from ecrf.views.studies import WORKLIST_PAGE_SIZE

    client = Client()
    client.force_login(get_user_model().objects.get(username="coordinator"))
    at_site = Subject.objects.filter(study__code="DLC", site__code="BJ-5MC")  # the largest site (seed_scale)
    site_size = at_site.count()
    page_ids = list(at_site.order_by("subject_code").values_list("pk", flat=True)[:WORKLIST_PAGE_SIZE])
    subject = at_site.annotate(n=Count("visits__lab_draws")).order_by("-n", "pk").first()
    draw = LabDraw.objects.filter(visit__subject=subject).select_related("visit__definition").order_by("-pk").first()

    def bare_worklist():
        rows = list(Subject.objects.filter(pk__in=page_ids).values())
        rows += list(Visit.objects.filter(subject_id__in=page_ids).values())
        _render(rows)

    def bare_subject():
        rows = list(Subject.objects.filter(pk=subject.pk).values())
        rows += list(Visit.objects.filter(subject=subject).values())
        rows += list(LabDraw.objects.filter(visit__subject=subject).values())
        _render(rows)

    def bare_labs():
        rows = list(LabDraw.objects.filter(pk=draw.pk).values())
        rows += list(LabValue.objects.filter(draw=draw).values())
        _render(rows)

    return client, [
        (
            f"site worklist, one page of {WORKLIST_PAGE_SIZE} at a {site_size}-subject site",
            reverse("ecrf:site_detail", args=["DLC", "BJ-5MC"]),
            bare_worklist,
            3.0,
        ),
        ("subject page", reverse("ecrf:subject_detail", args=["DLC", subject.pk]), bare_subject, 3.0),
        (
            "lab panel",
            reverse("ecrf:lab_panel", args=["DLC", subject.pk, draw.visit.definition.code]),
            bare_labs,
            3.0,
        ),
    ]


def _counting(queries: list):
    """A database execute wrapper that notes each statement in ``queries``."""

    def wrapper(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def _render(rows) -> str:
    from django.template import Context, Template

    return Template(BARE).render(Context({"rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, required=True, help="the study's size (for the report line)")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--profile", action="store_true", help="print where each page's time goes instead")
    arguments = parser.parse_args()
    setup_django()
    if arguments.profile:
        print(json.dumps({"profiles": profiles(arguments.repeat)}))
        return
    for result in measure(arguments.subjects, arguments.repeat):
        print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
