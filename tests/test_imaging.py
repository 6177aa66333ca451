"""The views' colour scale (app/widgets/imaging.py): symmetric about zero, from the finite values only."""
import warnings

import numpy as np

from app.widgets.imaging import symmetric_levels


def test_the_scale_takes_the_largest_finite_magnitude_and_never_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # an all-NaN gradient (a diverged network) drew nothing but a warning
        assert symmetric_levels(np.full((3, 3), np.nan)) == (-1.0, 1.0)
        assert symmetric_levels(np.array([0.5, -2.0, np.inf, np.nan]), np.array([1.5])) == (-2.0, 2.0)
        assert symmetric_levels(np.zeros(4), np.empty(0)) == (-1.0, 1.0)
