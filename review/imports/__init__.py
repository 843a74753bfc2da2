"""Importing real reports: parsing and encodings, placeholders → surrogates, the
preview/commit services and the upload form. Surrogate values themselves come from
`review.surrogates`, which the generation pipeline shares."""
