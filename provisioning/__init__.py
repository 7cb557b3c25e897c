"""Keys, bundles, enrolment and replacement of boxes."""
