/**
 * Code that uses an exported ONNX model (preprocessing and softmax inside: uint8 RGB pixels of
 * any size in as `input` [1, height, width, 3], `probabilities` out), from Node and from a page.
 */
export function nodeSnippet(file: string, classes: string[]): string {
  return `// npm install onnxruntime-node sharp
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

const classes = ${JSON.stringify(classes)};
const session = await ort.InferenceSession.create('${file}');

// The model resizes, crops and normalizes by itself: give it the image's RGB bytes.
const { data, info } = await sharp('photo.jpg').removeAlpha().raw().toBuffer({ resolveWithObject: true });
const input = new ort.Tensor('uint8', data, [1, info.height, info.width, 3]);
const { probabilities } = await session.run({ input });
const best = probabilities.data.indexOf(Math.max(...probabilities.data));
console.log(classes[best], probabilities.data[best]);
`;
}

export function webSnippet(file: string, classes: string[]): string {
  return `<!doctype html>
<meta charset="utf-8">
<input type="file" id="file" accept="image/*"> <output id="out"></output>
<script type="module">
  // onnxruntime-web from npm (node_modules/onnxruntime-web/dist/) or a CDN; serve it with the page.
  import * as ort from './ort.wasm.min.mjs';
  const classes = ${JSON.stringify(classes)};
  const session = await ort.InferenceSession.create('${file}');

  document.getElementById('file').onchange = async (e) => {
    const bitmap = await createImageBitmap(e.target.files[0]);
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, width, height).data;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4) { rgb[j++] = rgba[i]; rgb[j++] = rgba[i + 1]; rgb[j++] = rgba[i + 2]; }
    const { probabilities } = await session.run({ input: new ort.Tensor('uint8', rgb, [1, height, width, 3]) });
    const p = Array.from(probabilities.data);
    const best = p.indexOf(Math.max(...p));
    document.getElementById('out').textContent = \`\${classes[best]} \${(p[best] * 100).toFixed(1)}%\`;
  };
</script>
`;
}
