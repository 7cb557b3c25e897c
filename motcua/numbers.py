"""Numbers as Vietnamese readers write them, one way on every page: “1.234” and “3,1”."""


def vn_number(value, decimals=1):
    """An int with a dot between thousands, a float with a decimal comma and ``decimals`` places
    (“3,1”); None as an em dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and decimals == 0):
        return f"{round(value):,}".replace(",", ".")
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")
