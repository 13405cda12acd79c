"""Records what PIL decodes from test/__fixtures__/decode/*: the way Hugging Face's load_image
reads an image (PIL.Image.open, ImageOps.exif_transpose, convert('RGB')), as width, height and
the SHA-256 of the RGB bytes. Writes test/__fixtures__/decode/pil-decoded.json.
"""
import hashlib
import json
import pathlib

import numpy as np
import PIL
import PIL.Image
import PIL.ImageOps

folder = pathlib.Path(__file__).resolve().parent.parent / "test" / "__fixtures__" / "decode"
decoded = {}
for path in sorted(folder.iterdir()):
    if path.suffix == ".json":
        continue
    image = PIL.ImageOps.exif_transpose(PIL.Image.open(path)).convert("RGB")
    rgb = np.asarray(image)
    decoded[path.name] = {"width": image.width, "height": image.height, "rgbSha256": hashlib.sha256(rgb.tobytes()).hexdigest()}
(folder / "pil-decoded.json").write_text(json.dumps({"pillow": PIL.__version__, "files": decoded}, indent=1) + "\n")
print(f"recorded {len(decoded)} files")
