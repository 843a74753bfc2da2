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
