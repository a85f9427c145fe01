// The dashboard's SharedWorker (client.ts makes it with `new SharedWorker(new URL(...))`, which
// Vite bundles and serves under one URL, so every tab of the origin meets the same worker): it
// holds one connection per target, and every tab watching that target is one of its ports.
import { startHub } from '@fates-rx/core/worker'

startHub()
