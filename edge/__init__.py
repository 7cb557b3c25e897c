"""The commune box: web app (kiosk, lobby, counters, rating, API) and its task worker."""
