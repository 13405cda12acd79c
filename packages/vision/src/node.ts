/**
 * @gemma3n/vision/node — everything in the main entry, plus a `loadImage` that decodes files and
 * bytes with sharp (an optional peer dependency, imported on first use).
 */
import { createNodeImageLoader } from './load/load-image-node';

export * from './index';
export { createNodeImageLoader, type NodeImageSource } from './load/load-image-node';

/**
 * Decodes a PNG, JPEG, WebP or GIF (first frame) from a path, a `file:` URL or bytes into
 * `ImagePixels` (RGB, or RGBA when the image has alpha), with EXIF orientation applied.
 */
export const loadImage = createNodeImageLoader(() => import('sharp'));
