import { checkFhirText, warmUpFhirValidation, type ExpectedResource, type FhirTextCheck } from './validation.js'

// A worker thread of the validation pool (validation-pool.ts): the definitions load once per thread.
warmUpFhirValidation()

export default function check(task: { text: string; expected: ExpectedResource }): FhirTextCheck {
  return checkFhirText(task.text, task.expected)
}
