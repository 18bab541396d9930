import type { Migration } from 'kysely'
import * as foundation from './2026-11-24T0900_foundation.js'
import * as auditEvent from './2026-11-24T0910_audit_event.js'
import * as consent from './2026-11-24T0920_consent.js'
import * as taskPerspective from './2026-11-24T0930_task_perspective.js'
import * as jobRun from './2026-11-24T0940_job_run.js'
import * as careRelationship from './2026-12-01T0900_care_relationship.js'
import * as partitionFunctionDefiner from './2026-12-01T1000_partition_function_definer.js'
import * as resourceHistory from './2026-12-01T1100_resource_history.js'
import * as webSession from './2026-12-01T1200_web_session.js'
import * as subscriptionOutbox from './2026-12-01T1300_subscription_outbox.js'
import * as escortCard from './2026-12-01T1310_escort_card.js'
import * as consentShortCode from './2026-12-01T1400_consent_short_code.js'
import * as taskListIndexes from './2026-12-01T1410_task_list_indexes.js'

/** Every migration, in order. A static list, so bundlers and tests see the same set. */
export const migrations: Record<string, Migration> = {
  '2026-11-24T0900_foundation': foundation,
  '2026-11-24T0910_audit_event': auditEvent,
  '2026-11-24T0920_consent': consent,
  '2026-11-24T0930_task_perspective': taskPerspective,
  '2026-11-24T0940_job_run': jobRun,
  '2026-12-01T0900_care_relationship': careRelationship,
  '2026-12-01T1000_partition_function_definer': partitionFunctionDefiner,
  '2026-12-01T1100_resource_history': resourceHistory,
  '2026-12-01T1200_web_session': webSession,
  '2026-12-01T1300_subscription_outbox': subscriptionOutbox,
  '2026-12-01T1310_escort_card': escortCard,
  '2026-12-01T1400_consent_short_code': consentShortCode,
  '2026-12-01T1410_task_list_indexes': taskListIndexes,
}
