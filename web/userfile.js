// userfile.js - a file the person drops on the page or chooses (docs/web.md, "Your
// own model"): a picture is classified; a model file (.prime, .pvae or a layer-graph
// model: P.load) or a checkpoint (.pt, .pth, .npz, .npy: P.importModel) is opened
// by the worker and shown in the view that fits it: a classifier becomes the
// current model (Classify); an inpainting VAE or a layer graph whose readout is an
// image (the PRIME authors' FSVAE) opens in Inpainting; any other layer graph (the
// Fashion CNN: a logits readout) in the "Your layer-graph model" card of Classify
// (web/graphview.js). A file that does not load shows the core's message and
// changes nothing.

const $ = (id) => document.getElementById(id);

/* The names the page takes as models (else: a picture). */
export const MODEL_FILE = /\.(prime|pvae|pt|pth|npz|npy)$/i;

/* ctx: {call, V, clearError, fail, setStatus, useImage, fillModelSelect, adoptModel,
 * selectTab, openInpaintModel (dataset), graphView (web/graphview.js)}. */
export function initUserFiles(ctx) {
  const { call, V, clearError, fail, setStatus, useImage, fillModelSelect, adoptModel, selectTab, openInpaintModel, graphView } = ctx;

  async function handleFile(file) {
    if (!file) return;
    clearError();
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (!MODEL_FILE.test(file.name)) {
        const r = await call('decode', { bytes });
        useImage(r.img, `your picture ${file.name}` + (r.inverted ? ' (dark on light, inverted)' : ''));
        return;
      }
      setStatus(`Loading ${file.name}...`);
      const info = await call('openBytes', { name: file.name, bytes }); // a bad file throws here: nothing changed
      if (info.view === 'inpaint') {
        const p = openInpaintModel(info.dataset); // first: the tab then finds it loading
        selectTab('inpaint');
        await p;
        setStatus(`Loaded your model ${file.name} (${info.what}) into Inpainting.`);
        return;
      }
      if (info.view === 'graph') {
        selectTab('classify');
        graphView.show(info);
        return;
      }
      V.models = info.models;
      fillModelSelect(info.entry.id);
      await adoptModel(info);
      V.note = `Loaded your model ${file.name}.`; setStatus(V.note);
    } catch (err) {
      fail(`Could not use ${file.name}: ${err.message}`);
    }
  }
  $('file').addEventListener('change', () => { handleFile($('file').files[0]); $('file').value = ''; });
  let dragDepth = 0;
  document.addEventListener('dragenter', (e) => { e.preventDefault(); dragDepth++; $('dropveil').hidden = false; });
  document.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('dropveil').hidden = true; } });
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault(); dragDepth = 0; $('dropveil').hidden = true;
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) handleFile(f);
  });
  return { handleFile };
}
