// Models from the Hugging Face Hub (or any server with its two URLs, HF_ENDPOINT): ids, file
// selection, resumable downloads into a pluggable storage. Platform-neutral (fetch only); the
// Node cache on disk is ./cache-node.ts, imported on its own by Node code.
export { DEFAULT_REVISION, formatHubId, HUB_PREFIX, HubIdError, isCommitHash, isHubId, parseHubId, type HubModelId } from './id';
export { DEFAULT_TOKEN_HINT, HubError, type HubErrorKind } from './errors';
export { CONFIG_FILE, OPTIONAL_FILES, selectFiles, shardsOf, WEIGHTS_FILE, WEIGHTS_INDEX_FILE, type HubFile } from './files';
export { downloadFile, parseContentRange, type FetchLike, type FileDownload } from './download';
export { memoryHubStorage, type HubStorage, type PartialWriter, type SnapshotKey, type SnapshotManifest } from './storage';
export {
  cachedSnapshot,
  DEFAULT_ENDPOINT,
  downloadModel,
  fetchModelInfo,
  modelInfoUrl,
  normalizeEndpoint,
  resolveUrl,
  type DownloadProgress,
  type HubOptions,
  type HubSnapshot,
  type ModelInfo,
} from './snapshot';
export { downloadProgressText, formatBytes } from './progress';
