"""Hardware of the box: the ticket printer, voice clips, the rating keypad."""
