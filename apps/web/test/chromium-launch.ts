import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The flags that work on this machine (/work/.library/env/machines/node.md): no sandbox as
 * root, no background networking (the closed network refuses it). WebGPU adds the unsafe-WebGPU
 * switch and SwiftShader, Chromium's CPU Vulkan: `requestAdapter()` then gives an adapter even
 * with --disable-gpu (checked on Chromium 156).
 */
export function chromiumArgs(webGpu: boolean): string[] {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // getUserMedia gets Chromium's fake camera (a moving test pattern) and microphone (a beep),
    // granted without a prompt: the app's camera and recording buttons run in the test.
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
  ];
  if (webGpu) args.push('--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan');
  return args;
}

/** playwright-core gives every launch a new empty profile folder of its own. */
export function launchChromium(webGpu: boolean): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs(webGpu) });
}
