from app.studio.views.results import image_count


def test_a_count_of_images_is_spelled_in_the_singular_for_one():
    assert image_count(1) == "1 image"
    assert image_count(0) == "0 images"
    assert image_count(2417) == "2,417 images"
