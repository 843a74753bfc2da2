from django.urls import reverse

from review.models import Assignment, Rating


def test_reviewer_flow_rates_submits_and_progress_moves(reviewer_client, reviewer, open_study):
    home = reviewer_client.get(reverse("review:home"))
    assert home.status_code == 200
    assert "0 / 8 rated" in home.content.decode()

    response = reviewer_client.get(reverse("review:continue", args=[open_study.code]))
    assert response.status_code == 302
    first = Assignment.objects.get(reviewer=reviewer, study=open_study, position=1)
    assert response["Location"] == reverse("review:rate", args=[first.code])

    page = reviewer_client.get(response["Location"])
    assert page.status_code == 200
    keys = list(open_study.domains.values_list("key", flat=True))
    for value, key in enumerate(keys, start=3):
        saved = reviewer_client.post(
            reverse("review:rate_score", args=[first.code, key]),
            {f"score-{key}": str(value)},
            HTTP_HX_REQUEST="true",
        )
        assert saved.status_code == 200
        assert f'value="{value}" checked' in saved.content.decode()

    submitted = reviewer_client.post(
        reverse("review:rate_submit", args=[first.code]), {"comment": "ok"}
    )
    second = Assignment.objects.get(reviewer=reviewer, study=open_study, position=2)
    assert submitted.status_code == 302
    assert submitted["Location"] == reverse("review:rate", args=[second.code])

    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    assert first.comment == "ok"
    assert dict(Rating.objects.filter(assignment=first).values_list("domain__key", "score")) == {
        key: value for value, key in enumerate(keys, start=3)
    }
    home = reviewer_client.get(reverse("review:home"))
    assert "1 / 8 rated" in home.content.decode()


def test_the_submit_goes_on_to_the_first_unsubmitted_report_of_the_queue(
    reviewer_client, reviewer, open_study
):
    """The submit's own statement names the next report (issue 21): the same as the queue's
    "continue", in any order of submission, and home once every report is rated."""
    from review.selectors import queue_next_for_reviewer

    queue = list(
        Assignment.objects.filter(reviewer=reviewer, study=open_study).order_by("position")
    )
    keys = list(open_study.domains.values_list("key", flat=True))
    # Out of order: the third, the first, the last, then the rest from the end.
    order = [queue[2], queue[0], queue[-1], *reversed(queue[1:-1])]
    order = list(dict.fromkeys(order))
    assert len(order) == len(queue) == 8
    for n, assignment in enumerate(order, start=1):
        assert (
            reviewer_client.get(reverse("review:rate", args=[assignment.code])).status_code == 200
        )
        for key in keys:
            reviewer_client.post(
                reverse("review:rate_score", args=[assignment.code, key]),
                {f"score-{key}": "6"},
                HTTP_HX_REQUEST="true",
            )
        submitted = reviewer_client.post(reverse("review:rate_submit", args=[assignment.code]))
        assert submitted.status_code == 302
        expected = queue_next_for_reviewer(reviewer=reviewer, study_code=open_study.code)
        if n < len(order):
            assert expected is not None
            assert submitted["Location"] == reverse("review:rate", args=[expected])
        else:
            assert expected is None
            assert submitted["Location"] == reverse("review:home")
    assert (
        Assignment.objects.filter(
            reviewer=reviewer, study=open_study, status=Assignment.Status.SUBMITTED
        ).count()
        == 8
    )
