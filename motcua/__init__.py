"""motcua: the command line, settings and web plumbing shared by the box and the hub."""
