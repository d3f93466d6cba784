"""The web application starts from its factory and shows what the platform holds."""
from minqing.web import create_app


def test_home_page_shows_the_city_in_chinese(demo_platform):
    app = create_app({"TESTING": True}, platform=demo_platform)
    response = app.test_client().get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "小网格 7507" in page and "大网格 110" in page and "网格长 1198" in page
    assert 'lang="zh-CN"' in page and "width=device-width" in page


def test_the_favicon_is_served(platform):
    import io

    from PIL import Image

    client = create_app({"TESTING": True}, platform=platform).test_client()
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert Image.open(io.BytesIO(response.data)).format == "ICO"
    assert client.get("/static/favicon.svg").status_code == 200
