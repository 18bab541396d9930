/** Child process of `seedDataset`: seeds one range of patients and reports them back over IPC. */
import { parseMasterKey } from '../src/patient/envelope.js'
import { seedPatientRange } from './seed.js'

const job = JSON.parse(process.env.BENCH_SEED_JOB ?? '{}') as { url: string; from: number; to: number; masterKey: string; now: string }
const seeded = await seedPatientRange(job.url, job.from, job.to, parseMasterKey(job.masterKey), new Date(job.now), (n) => process.send!({ progress: n }))
process.send!({ seeded }, () => process.exit(0))
