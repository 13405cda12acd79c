"""Gemma 3n log-mel features the way transformers' Gemma3nAudioFeatureExtractor computes them
for one clip with the release configuration, in plain NumPy (no transformers needed): float32
framing, window and pre-emphasis; a float32 or float64 rfft; float64 filter bank and log.

    python3 numpy-reference.py input.f32 output.f32 [float32|float64]

input.f32: raw little-endian float32 samples at 16 kHz; output.f32: frames x 128 float32.
"""
import math
import sys

import numpy as np


def mel_filters(bins=513, low=125.0, high=7600.0, count=128, rate=16000, fft_length=1024):
    frequencies = np.arange(bins, dtype=np.float32) * (rate / fft_length)
    mel_low = 2595.0 * math.log10(1.0 + low / 700.0)
    mel_high = 2595.0 * math.log10(1.0 + high / 700.0)
    edges = 700.0 * (10 ** (np.linspace(mel_low, mel_high, count + 2) / 2595.0) - 1.0)
    widths = edges[1:] - edges[:-1]
    offsets = edges[None, :] - frequencies[:, None]
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    return np.maximum(np.zeros(1, dtype=np.float32), np.minimum(rising, falling))


def features(samples, fft_precision="float32"):
    kept = samples[:480000]
    padded = np.zeros(-(-len(kept) // 128) * 128, dtype=np.float32)
    padded[: len(kept)] = kept
    count = (len(padded) - 513) // 160 + 1
    if count <= 0:
        return np.zeros((0, 128), dtype=np.float32)
    windows = np.lib.stride_tricks.as_strided(
        padded, shape=(count, 513), strides=(padded.strides[0] * 160, padded.strides[0])
    )
    emphasised = np.concatenate(
        [windows[:, :1] * (1.0 - 0.97), windows[:, 1:-1] - 0.97 * windows[:, :-2]], axis=-1
    )
    hann = (0.5 * (1 - np.cos(2 * np.pi * np.arange(512, dtype=np.float32) / 512))).astype(np.float32)
    frames = emphasised * hann
    if fft_precision == "float64":
        frames = frames.astype(np.float64)
    magnitudes = np.abs(np.fft.rfft(frames, n=1024, axis=-1))
    mel = np.matmul(magnitudes, mel_filters())
    return np.log(np.maximum(mel, np.array(1e-5, dtype=np.float64))).astype(np.float32)


if __name__ == "__main__":
    source, target = sys.argv[1], sys.argv[2]
    precision = sys.argv[3] if len(sys.argv) > 3 else "float32"
    features(np.fromfile(source, dtype="<f4"), precision).astype("<f4").tofile(target)
