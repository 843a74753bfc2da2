"""The rating page's domain rows come from a per-process store of rendered HTML
(review/views/domain_rows.py): each must be exactly what the template renders for the
assignment, whatever the score, scale, language, state and script prefix."""

import itertools

import pytest
from django.template.loader import render_to_string
from django.urls import set_script_prefix
from django.utils import translation

from review.models import Assignment
from review.selectors import BlindedDomain
from review.views import domain_rows
from review.views.domain_rows import domain_row_html

DOMAIN = BlindedDomain(
    key="medical_consistency",
    label="Cohérence médicale",
    help_text="Les décisions suivent-elles les recommandations ?",
    anchor_low="incohérent",
    anchor_high="irréprochable",
    score=None,
    example_low="Chirurgie chez un patient non opérable",
    example_mid="",
    example_high="Prise en charge conforme <ESMO 2024>",
)


def _template_row(domain, code, scale, study_open, missing):
    return render_to_string(
        "review/rate.html#domain-row",
        {
            "domain": domain,
            "assignment_code": code,
            "study_open": study_open,
            "scale": list(scale),
            "missing_first": domain.key if missing else None,
            "error": "",
        },
    )


@pytest.fixture(autouse=True)
def empty_store():
    domain_rows._row_html.cache_clear()
    yield
    domain_rows._row_html.cache_clear()
    set_script_prefix("/")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_row_is_what_the_template_renders(language):
    cases = itertools.product(
        [None, 1, 7, 10],  # score
        [None, 6],  # the panel's reference score (submitted calibration item)
        [range(1, 11), range(0, 5)],  # scale
        [True, False],  # study open
        [True, False],  # the first unscored domain after an incomplete submit
    )
    with translation.override(language):
        for score, reference, scale, study_open, missing in cases:
            domain = BlindedDomain(
                **{**DOMAIN.__dict__, "score": score, "reference_score": reference}
            )
            for code in ("K7QXW2MP", "AB3DEF9H"):
                expected = _template_row(domain, code, scale, study_open, missing)
                got = domain_row_html(
                    domain=domain,
                    assignment_code=code,
                    scale=scale,
                    study_open=study_open,
                    missing=missing,
                )
                assert got == expected, (score, reference, scale, study_open, missing, code)
    # Each content was rendered once, whatever the number of assignments asking for it.
    assert domain_rows._row_html.cache_info().currsize == 4 * 2 * 2 * 2 * 2


def test_the_save_url_names_the_assignment_and_the_script_prefix():
    html = domain_row_html(
        domain=DOMAIN, assignment_code="K7QXW2MP", scale=range(1, 11), study_open=True
    )
    assert 'hx-post="/r/K7QXW2MP/score/medical_consistency/"' in html
    assert "@assignment@" not in html
    # Served under a sub-path (SCRIPT_NAME): its own rendering, not the root one's.
    set_script_prefix("/synthreports/")
    html = domain_row_html(
        domain=DOMAIN, assignment_code="K7QXW2MP", scale=range(1, 11), study_open=True
    )
    assert 'hx-post="/synthreports/r/K7QXW2MP/score/medical_consistency/"' in html
    assert html == _template_row(DOMAIN, "K7QXW2MP", range(1, 11), True, False)


def test_a_closed_study_row_has_no_save_url():
    html = domain_row_html(
        domain=DOMAIN, assignment_code="K7QXW2MP", scale=range(1, 11), study_open=False
    )
    assert "hx-post" not in html
    assert html.count(" disabled>") == 10


def test_a_coordinators_markup_in_domain_texts_stays_escaped():
    html = domain_row_html(
        domain=DOMAIN, assignment_code="K7QXW2MP", scale=range(1, 11), study_open=True
    )
    assert "&lt;ESMO 2024&gt;" in html
    assert "<ESMO" not in html


@pytest.mark.django_db
def test_a_save_answers_the_row_of_the_page_with_the_new_score(
    reviewer_client, open_study, reviewer
):
    assignment = Assignment.objects.filter(reviewer=reviewer, study=open_study).first()
    page = reviewer_client.get(f"/r/{assignment.code}/")
    assert page.status_code == 200
    key = open_study.domains.order_by("order").first().key
    response = reviewer_client.post(
        f"/r/{assignment.code}/score/{key}/", {f"score-{key}": "8"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith('<fieldset class="domain scored"')
    assert f'hx-post="/r/{assignment.code}/score/{key}/"' in row
    assert row.count(" checked") == 1
    assert 'value="8" checked' in row
    # The page rendered again shows the same row, the score saved.
    assert row.strip() in reviewer_client.get(f"/r/{assignment.code}/").content.decode()
