"""Irreversible or disruptive actions ask first, in a real browser: dismissing the question
changes nothing, accepting it acts; a closed study is reopened with a reason (audited)."""

import pytest
from django.urls import reverse
from playwright.sync_api import Dialog, expect

from review.models import AuditEvent, Study
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def _answer(page, *, accept: bool, seen: list[str]) -> None:
    def handle(dialog: Dialog) -> None:
        seen.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", handle)


def test_close_remove_and_reopen_ask_for_confirmation(page, study_setup):
    study, coordinator = study_setup["study"], study_setup["coordinator"]
    log_in(page, coordinator)
    page.goto(reverse("review:study_detail", args=[study.pk]))
    seen: list[str] = []

    # Close, dismissed: nothing happens.
    _answer(page, accept=False, seen=seen)
    page.get_by_role("button", name="Close the study").click()
    expect(page.locator("h1 .badge")).to_have_text("Open")
    assert seen == [
        "Close the study? Reviewers can no longer rate or change their ratings. A closed "
        "study can be reopened, and the reopening is recorded in the audit trail."
    ]
    study.refresh_from_db()
    assert study.status == Study.Status.OPEN

    # Remove a reviewer, dismissed: still on the panel.
    _answer(page, accept=False, seen=seen)
    page.locator("#progress tbody tr").first.get_by_role("button", name="Remove").click()
    assert seen[-1].startswith("Remove R")
    assert seen[-1].endswith(
        "from the panel? Their submitted ratings stay; their unfinished reports go to other "
        "reviewers. This cannot be undone."
    )
    assert study.panel.filter(active=True).count() == 2

    # Close, accepted.
    _answer(page, accept=True, seen=seen)
    page.get_by_role("button", name="Close the study").click()
    expect(page.locator("h1 .badge")).to_have_text("Closed")
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED

    # Reopen: a reason, a confirmation, an audit entry.
    page.get_by_label("Reason for reopening").fill("R1 asked to fix a slip")
    _answer(page, accept=True, seen=seen)
    page.get_by_role("button", name="Reopen the study").click()
    expect(page.locator("h1 .badge")).to_have_text("Open")
    assert seen[-1] == "Reopen the study? Reviewers can rate and change their ratings again."
    event = AuditEvent.objects.get(action="study.reopen", study=study)
    assert event.details["reason"] == "R1 asked to fix a slip"
    assert event.actor == coordinator
    assert len(seen) == 4
