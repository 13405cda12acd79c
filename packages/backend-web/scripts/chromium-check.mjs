import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// node scripts/chromium-check.mjs <tiny-window-4 seed-7 model folder> webgpu-selftest webgpu-gpu webgpu-cpu wasm
// Scratch harness, not a test: bundles chromium-check-page.ts for the browser, serves it with
// COOP/COEP, and runs the WebGPU self-test and the decoder conformance suite in headless
// Chromium (SwiftShader adapter). playwright-core is borrowed from apps/web; Chromium from
// /usr/bin/chromium (or CHROMIUM_PATH). The real browser tests live in apps/web.
const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '../..');
const [modelFolder, ...probes] = process.argv.slice(2);
const require = createRequire(join(packages, 'backend-web/package.json'));
const esbuild = createRequire(require.resolve('tsup'))('esbuild');
const plugin = { name: 'ws', setup(build) {
  build.onResolve({ filter: /^@gemma3n\/[a-z0-9-]+(\/[a-z0-9-]+)?$/ }, (args) => {
    const [, name, sub] = args.path.match(/^@gemma3n\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/);
    return { path: join(packages, name, 'src', `${sub ?? 'index'}.ts`) };
  });
} };
await esbuild.build({ entryPoints: [join(here, 'chromium-check-page.ts')], bundle: true, format: 'esm', platform: 'browser', outfile: join(here, '.chromium-check-page.js'), plugins: [plugin], logLevel: 'warning', absWorkingDir: join(packages, 'backend-web') });
const ortDir = join(packages, 'backend-web/node_modules/onnxruntime-web/dist');
const types = { js: 'text/javascript', mjs: 'text/javascript', wasm: 'application/wasm', html: 'text/html', json: 'application/json' };
const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  let file;
  if (url.pathname === '/') file = null;
  else if (url.pathname === '/page.js') file = join(here, '.chromium-check-page.js');
  else if (url.pathname.startsWith('/ort/')) file = join(ortDir, url.pathname.slice(5));
  else if (url.pathname.startsWith('/model/')) file = join(modelFolder, url.pathname.slice(7));
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };
  if (file === null) { response.writeHead(200, { ...headers, 'Content-Type': 'text/html' }); response.end('<!doctype html><script type="module" src="/page.js"></script>'); return; }
  if (!file || !existsSync(file)) { response.writeHead(404, headers); response.end(); return; }
  const size = statSync(file).size;
  const type = types[file.split('.').pop()] ?? 'application/octet-stream';
  const range = request.headers.range?.match(/bytes=(\d+)-(\d*)/);
  if (request.method === 'HEAD') { response.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': size, 'Accept-Ranges': 'bytes' }); response.end(); return; }
  const bytes = readFileSync(file);
  if (range) {
    const start = Number(range[1]); const end = range[2] ? Number(range[2]) : size - 1;
    response.writeHead(206, { ...headers, 'Content-Type': type, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
    response.end(bytes.subarray(start, end + 1)); return;
  }
  response.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': size }); response.end(bytes);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const { chromium } = createRequire(join(packages, '../apps/web/package.json'))('playwright-core');
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args });
for (const which of probes) {
  const page = await browser.newPage();
  page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') console.log(`[${which} console.${message.type()}]`, message.text().slice(0, 300)); });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => typeof window.runProbe === 'function');
  const result = await page.evaluate((name) => window.runProbe(name).catch((error) => ({ error: String(error && error.stack || error) })), which);
  console.log(which, JSON.stringify(result, null, 1));
  await page.close();
}
await browser.close();
server.close();
await import('node:fs/promises').then((fs) => fs.rm(join(here, '.chromium-check-page.js'), { force: true }));
