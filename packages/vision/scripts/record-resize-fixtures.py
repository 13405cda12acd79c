"""Records golden resize outputs from real Pillow and real PyTorch/torchvision.

Run with a Python that has Pillow, torch and torchvision (Debian bookworm: apt-get install
python3-pil python3-torch python3-torchvision, then /usr/bin/python3 this-file). Writes
src/resize/__fixtures__/resize-goldens.json, which the tests read; the tests never need Python.

Inputs are uniform random bytes (the hardest case for rounding: no smooth regions), made by a
seeded NumPy generator and stored in the fixture, so the JavaScript side does not reimplement it.
"""
import base64
import json
import pathlib

import numpy as np
import PIL
import PIL.Image
import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms.functional as TF

CASES = [
    # (width, height, out_width, out_height)
    (23, 17, 8, 5),
    (9, 7, 20, 15),
    (31, 12, 10, 30),
    (64, 48, 16, 16),
    (40, 40, 13, 13),
    (50, 3, 7, 3),
]


def b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def main() -> None:
    generator = np.random.default_rng(20261201)
    cases = []
    for width, height, out_width, out_height in CASES:
        pixels = generator.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        pillow = np.asarray(PIL.Image.fromarray(pixels, "RGB").resize((out_width, out_height), PIL.Image.BILINEAR))
        chw = torch.from_numpy(pixels).permute(2, 0, 1).contiguous()
        # torchvision on a uint8 tensor: this version (no native uint8 antialias kernel) casts to
        # float32, resizes, rounds and casts back, which is the float path of newer versions too.
        torchvision_uint8 = TF.resize(chw, [out_height, out_width], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
        float_result = F.interpolate(
            chw.unsqueeze(0).float(), size=(out_height, out_width), mode="bilinear", align_corners=False, antialias=True
        )[0]
        cases.append(
            {
                "width": width,
                "height": height,
                "outWidth": out_width,
                "outHeight": out_height,
                "inputRgb": b64(pixels),
                "pillowRgb": b64(pillow),
                "torchvisionRgb": b64(torchvision_uint8.permute(1, 2, 0).numpy()),
                "torchFloat32Hwc": b64(float_result.permute(1, 2, 0).numpy().astype("<f4")),
            }
        )
    fixture = {
        "recordedWith": {"pillow": PIL.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__},
        "cases": cases,
    }
    target = pathlib.Path(__file__).resolve().parent.parent / "src" / "resize" / "__fixtures__" / "resize-goldens.json"
    target.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {target} ({target.stat().st_size} bytes, {len(cases)} cases)")


if __name__ == "__main__":
    main()
