// Generated at build time by the `prefplay-assets` plugin in vite.config.ts: what public/ holds.
declare module 'virtual:prefplay-assets' {
  const assets: {
    /** public/data/*.jsonl (and .json/.csv/.tsv/.yaml): the built-in preference sets. */
    datasets: Array<{ name: string; file: string; bytes: number }>;
    /** Files in public/models/builtin/ (empty when the built-in model is not in this build). */
    builtinModel: string[];
  };
  export default assets;
}
