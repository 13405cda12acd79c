import sharp from 'sharp';
const f = Math.fround;
function candidate(src, w, h, c, outW, outH, variant) {
  const a = outW / w, b = outH / h;
  const out = new Uint8Array(outW * outH * c);
  const det = a * b - 0 * 0; const ia = variant.reciprocal ? 1 / a : b / det; const id = variant.reciprocal ? 1 / b : a / det;
  for (let Y = 0; Y < outH; Y++) {
    let xAcc = 0;
    for (let X = 0; X < outW; X++, xAcc += ia) {
      if (variant.tile && X % variant.tile === 0) xAcc = ia * X;
      let x, y;
      if (variant.direct) { x = ia * X; y = id * Y; } else if (variant.inverse) { x = xAcc; y = id * Y; }
      else if (variant.multiply) { x = X * (1 / a); y = Y * (1 / b); } else { x = X / a; y = Y / b; }
      const ix = Math.floor(x), iy = Math.floor(y);
      let s1, s2, s3, s4;
      if (variant.integer) {
        const XX = Math.trunc((x - ix) * 4096), YY = Math.trunc((y - iy) * 4096);
        const Yd = 4096 - YY;
        s4 = (YY * XX) >> 12; s2 = (Yd * XX) >> 12; s3 = YY - s4; s1 = Yd - s2;
      } else {
      const fx = f(x - ix), fy = f(y - iy);
      const yd = f(1 - fy);
      const c4 = f(fy * fx), c2 = f(yd * fx), c3 = f(fy - c4), c1 = f(yd - c2);
      s1 = Math.trunc(4096 * c1), s2 = Math.trunc(4096 * c2), s3 = Math.trunc(4096 * c3), s4 = Math.trunc(4096 * c4);
      }
      const get = (xx, yy, k) => (xx < 0 || yy < 0 || xx >= w || yy >= h) ? 0 : src[(yy * w + xx) * c + k];
      for (let k = 0; k < c; k++) {
        const v = (s1 * get(ix, iy, k) + s2 * get(ix + 1, iy, k) + s3 * get(ix, iy + 1, k) + s4 * get(ix + 1, iy + 1, k) + 2048) >> 12;
        out[(Y * outW + X) * c + k] = v;
      }
    }
  }
  return out;
}
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (const [w, h, outW, outH] of [[8, 6, 4, 3], [37, 23, 16, 11], [100, 80, 768, 768], [1536, 1024, 768, 768], [1000, 700, 768, 768], [333, 500, 768, 768], [1001, 999, 768, 768]]) {
  const src = new Uint8Array(w * h * 3).map(() => Math.floor(rand() * 256));
  const { data, info } = await sharp(src, { raw: { width: w, height: h, channels: 3 } }).affine([outW / w, 0, 0, outH / h], { interpolator: 'bilinear' }).raw().toBuffer({ resolveWithObject: true });
  for (const variant of [{ inverse: true, integer: true }, { inverse: true, integer: true, reciprocal: true }]) {
    if (info.width !== outW || info.height !== outH) { console.log(w, h, '->', info.width, info.height, 'SIZE MISMATCH'); break; }
    const mine = candidate(src, w, h, 3, outW, outH, variant);
    let diff = 0, maxd = 0, firstAt = -1;
    for (let i = 0; i < mine.length; i++) { const d = Math.abs(mine[i] - data[i]); if (d) { diff++; if (firstAt < 0) firstAt = i; } maxd = Math.max(maxd, d); }
    console.log(`${w}x${h}->${outW}x${outH}`, JSON.stringify(variant), 'mismatches', diff, 'of', mine.length, 'max', maxd, 'first', firstAt);
  }
}
{
  const [w, h, outW, outH] = [1000, 700, 768, 768];
  seed = 7;
  const src = new Uint8Array(w * h * 3).map(() => Math.floor(rand() * 256));
  const { data } = await sharp(src, { raw: { width: w, height: h, channels: 3 } }).affine([outW / w, 0, 0, outH / h], { interpolator: 'bilinear' }).raw().toBuffer({ resolveWithObject: true });
  const mine = candidate(src, w, h, 3, outW, outH, { inverse: true, integer: true });
  const rows = new Map();
  for (let i = 0; i < mine.length; i++) if (mine[i] !== data[i]) { const p = Math.floor(i / 3); const Y = Math.floor(p / outW), X = p % outW; rows.set(Y, [...(rows.get(Y) ?? []), X]); }
  console.log([...rows.entries()].slice(0, 10).map(([y, xs]) => `${y}: ${[...new Set(xs)].join(',')}`).join('\n'));
  const a = outW / w; const ia = a / (a * a);
  let acc = 0; for (let X = 0; X < 240; X++, acc += ia) if (X > 230) console.log(X, acc, X / a, (acc - Math.floor(acc)) * 4096);
}
