from etl.handler import transform


def test_transform():
    assert transform({"name": " Pho ", "rating": "5"}) == {"restaurant": "pho", "stars": 5}
