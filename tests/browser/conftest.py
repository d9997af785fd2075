from tests.browser.support import browser, page, phone_page  # noqa: F401  (fixtures for every browser test)
