// Writes the small encoded images of test/__fixtures__/decode/ (run once with `node`; the files
// are committed, so encoder changes in later sharp versions do not move the goldens). Then run
// scripts/record-decode-fixtures.py to record what PIL decodes from them.
import { mkdirSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';

const width = 32;
const height = 24;
const pixels = new Uint8Array(width * height * 3);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const offset = (y * width + x) * 3;
    const dx = x - width / 2;
    const dy = y - height / 2;
    pixels[offset] = Math.round(127.5 + 127.5 * Math.cos((Math.PI / width) * (dx * dx + dy * dy)));
    pixels[offset + 1] = (x * 8) & 255;
    pixels[offset + 2] = y < height / 2 ? 230 : 20; // top and bottom differ, so rotations show
  }
}
const raw = { raw: { width, height, channels: 3 } };
const folder = new URL('../test/__fixtures__/decode/', import.meta.url);
mkdirSync(folder, { recursive: true });
const files = {
  'lossy.webp': await sharp(pixels, raw).webp({ quality: 80 }).toBuffer(),
  'palette.gif': await sharp(pixels, raw).gif().toBuffer(),
  'palette.png': await sharp(pixels, raw).png({ palette: true, colours: 64 }).toBuffer(),
  'progressive.jpg': await sharp(pixels, raw).jpeg({ quality: 75, progressive: true }).toBuffer(),
};
for (let orientation = 1; orientation <= 8; orientation++) {
  files[`orientation-${orientation}.jpg`] = await sharp(pixels, raw).jpeg({ quality: 90 }).withMetadata({ orientation }).toBuffer();
}
for (const [name, bytes] of Object.entries(files)) writeFileSync(new URL(name, folder), bytes);
console.log(Object.keys(files).length, 'files');
