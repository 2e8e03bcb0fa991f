#!/usr/bin/env python3
"""Writes the model files of examples/tti.ini into examples/tti-model/: an
isotropic layer over a shale bed dipping 20 degrees down toward +x (TTI, its
symmetry axis normal to the bedding: theta = 20, phi = 0) over an isotropic
half-space. Raw float32, z fastest, then x, then y (order = zxy)."""
import math
import os
import struct

NX, NY, NZ, D = 80, 9, 45, 10.0
DIP = 20.0  # degrees


def bed(ix, iz):
    """0 above the bed, 1 in it, 2 below (interfaces dipping DIP toward +x)."""
    x, z = ix * D, iz * D
    top = 120.0 + math.tan(math.radians(DIP)) * x
    return 0 if z < top else (1 if z < top + 120.0 else 2)


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tti-model")
    os.makedirs(here, exist_ok=True)
    props = {
        "vp": (1800.0, 2400.0, 3000.0),
        "rho": (1000.0, 2200.0, 2400.0),
        "epsilon": (0.0, 0.25, 0.0),
        "delta": (0.0, 0.1, 0.0),
    }
    for name, vals in props.items():
        data = [vals[bed(ix, iz)] for iy in range(NY) for ix in range(NX) for iz in range(NZ)]
        with open(os.path.join(here, name + ".bin"), "wb") as f:
            f.write(struct.pack("<%df" % len(data), *data))


if __name__ == "__main__":
    main()
