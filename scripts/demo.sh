#!/usr/bin/env bash
# The offline demo: train a classifier on the bundled sample images with the bundled int8
# MobileNetV2 backbone, evaluate it, and classify two images with it. No network needed.
set -euo pipefail
cd "$(dirname "$0")/.."
graft() { node --import tsx src/cli/main.ts "$@"; }
data=assets/sample-data/hymenoptera-mini
out=demo-model
rm -rf "$out"
graft train "$data" --model onnx:assets/backbones/mobilenetv2-12-int8.onnx --epochs 10 --out "$out" --cache-dir "$out.cache"
echo
graft eval "$out" "$data"
echo
graft predict "$data/val/ants/$(ls "$data/val/ants" | head -1)" "$data/val/bees/$(ls "$data/val/bees" | head -1)" --model "$out" --topk 2
echo
echo "The trained model is in $out/ (report: $out/report.html)."
