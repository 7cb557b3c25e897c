"""Sign in at the hub with its form, as a person does in the browser."""


def sign_in(page, hub_url, name, password, then="/"):
    page.goto(f"{hub_url}/signin?next={then}")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    return page
