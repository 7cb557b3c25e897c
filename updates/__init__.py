"""Signed software updates of a box, with rollback.

The hub publishes a release (the motcua wheel and the wheels of dependencies that changed) under
a manifest signed with its Ed25519 key (``manifest``). A box's worker asks the hub what it should
run on each hello, downloads the files in the background, resumable and checked file by file
(``download``), installs them into a new virtual environment beside the running one
(``install``), and at a quiet time (``window``) flips the ``current`` link its services run from
and restarts them; a guard of the previous version watches the new one's health and switches
back by itself when it does not come up healthy (``switch``). What stands where is one JSON file
(``state``), read by every version.
"""
