"""{% scale_choices %}: the radio buttons of a domain on the rating page."""

from django.template import Context, Template

TEMPLATE = Template(
    "{% load rating %}"
    "{% scale_choices domain_key=key scale=scale selected=selected enabled=enabled %}"
)


def render(**context) -> str:
    return TEMPLATE.render(Context(context))


def test_one_radio_per_score_with_the_saved_one_checked():
    html = render(key="completeness", scale=[1, 2, 3], selected=2, enabled=True)
    assert html == (
        '<label class="choice"><input type="radio" name="score-completeness" value="1">'
        "<span>1</span></label>\n"
        '<label class="choice"><input type="radio" name="score-completeness" value="2" checked>'
        "<span>2</span></label>\n"
        '<label class="choice"><input type="radio" name="score-completeness" value="3">'
        "<span>3</span></label>"
    )


def test_closed_study_disables_every_choice_and_nothing_saved_checks_none():
    html = render(key="overall", scale=[1, 2], selected=None, enabled=False)
    assert html.count(" disabled>") == 2
    assert "checked" not in html


def test_the_domain_key_is_escaped():
    html = render(key='x"><script>', scale=[1], selected=None, enabled=True)
    assert 'name="score-x&quot;&gt;&lt;script&gt;"' in html
    assert "<script>" not in html
