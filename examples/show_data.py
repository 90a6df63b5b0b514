"""Look at the datasets: one PNG per dataset with random samples and a strip per factor.

Writes dsprites.png, shapes3d.png and a correlated dSprites view (scale and shape co-varying:
small sprites are squares, large ones hearts) to ``data_pictures/`` (or the folder given as
``OUT`` below), and prints how much each factor changes the image on average.

    OMP_WAIT_POLICY=PASSIVE python examples/show_data.py
"""

from pathlib import Path

from pyrodis.data import CorrelatedFactors, DSprites, Shapes3D
from pyrodis.data.pictures import save_data_figure, strip_differences

OUT = Path("data_pictures")

dsprites = DSprites()
views = {
    "dsprites": dsprites,
    "shapes3d": Shapes3D(),
    "dsprites_scale_shape_correlated": CorrelatedFactors(
        dsprites, pairs=[("scale", "shape")], sigma=0.0
    ),
}
for name, dataset in views.items():
    path = save_data_figure(dataset, OUT / f"{name}.png", num_samples=32, seed=0)
    print(f"wrote {path}")
    changes = strip_differences(dataset, rng=0)
    summary = ", ".join(f"{f} {d.mean():.3f}" for f, d in zip(dataset.factor_names, changes))
    print(f"  mean |Δpixel| between neighbouring factor values: {summary}")
