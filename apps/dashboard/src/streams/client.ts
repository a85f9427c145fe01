import type { FatesClient } from '@fates-rx/core'

export type { ConnectionMetrics, ConnectionState, ConnectionStatus, Diagnostic, TabRole } from '@fates-rx/core'

/**
 * The streams of one `connect()` client that the dashboard renders. A `Pick`, so that the
 * wiring is testable with plain subjects.
 */
export type DashboardClient = Pick<FatesClient, 'event$' | 'control$' | 'diagnostic$' | 'status$'> & Partial<Pick<FatesClient, 'metrics$'>>
