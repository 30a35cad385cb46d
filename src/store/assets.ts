// What this build serves from its own origin: built-in preference sets and the built-in model.
import assets from 'virtual:prefplay-assets';

export const BUILTIN_SETS = assets.datasets;
export const BUILTIN_MODEL_FILES = assets.builtinModel;

/** An absolute URL on the page's own origin for a path under public/ (the app is built with base './'). */
export function assetUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}
