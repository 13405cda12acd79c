import { crc32, deflateSync } from 'node:zlib';

/** Opaque 8-bit RGB pixels, row by row. */
export interface RgbPixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * A minimal PNG encoder for test images: one IHDR, one IDAT (filter 0 on every row), IEND, and
 * no colour chunks, so a browser decodes it to exactly these pixels.
 */
export function encodePng(pixels: RgbPixels): Buffer {
  const { width, height, data } = pixels;
  if (data.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} bytes of RGB, got ${data.length}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, filter set 0, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let row = 0; row < height; row += 1) rows.set(data.subarray(row * width * 3, (row + 1) * width * 3), row * (width * 3 + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, checksum]);
}
