/**
 * The BIG register from a local JSON file (OVERDRACHT_BIG_REGISTER_FILE): an array of records in
 * the form of shared/big-register/fake-data.example.json (see `big-record.ts`). For development
 * and for installations without access to the web service. The file is read and validated once,
 * when the register is created; restart to pick up changes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { assertBigNumber, type BigRegister } from './big-register.js'
import { BigRegisterFileError, parseBigRegisterRecords, recordToPerson, type BigRegisterRecord } from './big-record.js'

export { BigRegisterFileError } from './big-record.js'

/** Reads and validates the file; throws `BigRegisterFileError` naming the file and the bad record. */
export async function createFileBigRegister(path: string): Promise<BigRegister> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new BigRegisterFileError(`BIG register file ${path}: cannot be read (${code})`, { cause: err })
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new BigRegisterFileError(`BIG register file ${path}: not valid JSON (${(err as Error).message})`)
  }
  return createRecordsBigRegister(parseBigRegisterRecords(data, `BIG register file ${path}`))
}

/** A register answering from validated records in memory. */
export function createRecordsBigRegister(records: readonly BigRegisterRecord[]): BigRegister {
  const persons = new Map(records.map((r) => [r.big, recordToPerson(r)]))
  return {
    source: 'file',
    async lookup(bigNumber: string) {
      assertBigNumber(bigNumber)
      const person = persons.get(bigNumber)
      return person === undefined ? [] : [structuredClone(person)]
    },
  }
}

/**
 * The BIG numbers of the fictional caregivers in the development register file. Invented
 * numbers (the last two digits follow the group-code habit of README §4 only to look real).
 */
export const DEV_CAREGIVERS = Object.freeze({
  /** Arts at a GZA (healthcare for asylum seekers) practice: registered. */
  gzaArts: '90000000101',
  /** Verpleegkundige at the DJI medical service: registered. */
  djiVerpleegkundige: '90000000230',
  /** Escort verpleegkundige: registered, with a leading zero (exercises the padding). */
  escortVerpleegkundige: '09000000330',
  /** Arts with an ongoing public suspension: `suspended`. */
  suspendedArts: '90000000401',
  /** Verpleegkundige whose registration ended on 2024-01-01: `ended`. */
  endedVerpleegkundige: '90000000530',
  /** Tandarts, registered, but not an allowed profession by default: `profession-not-allowed`. */
  tandarts: '90000000602',
})

/** The records `writeDevelopmentRegisterFile` writes. Names are obviously fictional. */
export const DEV_REGISTER_RECORDS: readonly BigRegisterRecord[] = Object.freeze([
  { big: DEV_CAREGIVERS.gzaArts, name: 'A. Fictief-Gza', gender: 'V', professionalGroupCode: '01', startDate: '2012-03-01', endDate: null, specialisms: [15] },
  { big: DEV_CAREGIVERS.djiVerpleegkundige, name: 'B. Fictief-Dji', gender: 'M', professionalGroupCode: '30', startDate: '2014-09-01', endDate: null },
  { big: DEV_CAREGIVERS.escortVerpleegkundige, name: 'C. Fictief-Escorte', gender: 'V', professionalGroupCode: '30', startDate: '2016-05-15', endDate: null },
  {
    big: DEV_CAREGIVERS.suspendedArts,
    name: 'D. Fictief-Geschorst',
    gender: 'M',
    professionalGroupCode: '01',
    startDate: '2008-01-15',
    endDate: null,
    judgments: [{ id: 9001, startDate: '2025-01-10T10:00:00', endDate: null, description: 'Schorsing van de inschrijving. (Fictief ontwikkelvoorbeeld.)' }],
  },
  { big: DEV_CAREGIVERS.endedVerpleegkundige, name: 'E. Fictief-Doorgehaald', gender: 'V', professionalGroupCode: '30', startDate: '2010-02-01', endDate: '2024-01-01' },
  { big: DEV_CAREGIVERS.tandarts, name: 'F. Fictief-Tandarts', gender: 'M', professionalGroupCode: '02', startDate: '2018-07-01', endDate: null },
])

/**
 * Writes the development register file with the fictional caregivers of `DEV_CAREGIVERS`,
 * creating the folder. An existing file is left alone (it may hold the developer's own edits).
 * Returns whether it wrote the file.
 */
export async function writeDevelopmentRegisterFile(path: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true })
  try {
    await writeFile(path, `${JSON.stringify(DEV_REGISTER_RECORDS, null, 2)}\n`, { flag: 'wx' })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}
