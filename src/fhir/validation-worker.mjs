// Entry point of a validation worker thread. From the TypeScript sources (npm start, the tests) the
// worker module is loaded through tsx; a compiled build imports its JavaScript directly.
import { workerData } from 'node:worker_threads'

const file = workerData.validationWorker
const mod = file.endsWith('.ts') ? await (await import('tsx/esm/api')).tsImport(file, import.meta.url) : await import(file)

export default mod.default
