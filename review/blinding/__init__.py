"""Blinding in one package: what keeps a reviewer from learning a report's source.

`presentation` is the one normaliser every report goes through before a reviewer sees it;
`surface` measures how the sources still differ in the writing itself (shown to
coordinators before a study opens); `audit` renders everything reviewers receive and checks
it for anything that tells the sources apart. The blinded reads themselves are the
`reviewer_*` selectors in `review.selectors`.
"""
